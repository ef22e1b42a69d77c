#!/usr/bin/env node
// Issue 3's benchmark: portUsage() against its floors on a table of about 30,000 TCP sockets —
// the same sock_diag dumps in plain C (bench/sockdiag_floor.c: two per-family dumps, and the one
// TCPDIAG_GETSOCK dump that walks the table once for both families), spawning `ss -Htan dst …`, and
// reading + splitting /proc/net/tcp{,6} in JS — with most sockets matching and with none matching.
// Medians of several runs. Runs itself inside a private network namespace (host untouched).
//   node bench/port-usage.mjs [RUNS=9]     (needs `npx tsup` (or SAFEBIND_DIST=dir) and the addon)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { log } from 'node:console';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { enterPrivateNetns } from './netns.mjs';
import { listen, timeWaits } from './time-waits.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const runs = Number(process.argv[2] ?? 9);
const TIME_WAITS = Number(process.env.TIME_WAITS ?? 26_000);
const ESTABLISHED = Number(process.env.ESTABLISHED ?? 2_000); // connections: two sockets each

enterPrivateNetns();
// A pool big enough for every TIME_WAIT toward one destination, and no reuse of them.
execFileSync('sysctl', ['-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535']);
execFileSync('sysctl', ['-q', '-w', 'net.ipv4.tcp_tw_reuse=0']);
execFileSync('mkdir', ['-p', join(here, 'bin')]);
const floorBin = join(here, 'bin', 'sockdiag_floor');
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', floorBin, join(here, 'sockdiag_floor.c')]);

const dist = resolve(process.env.SAFEBIND_DIST ?? join(here, '..', 'dist'));
const { portUsage } = await import(pathToFileURL(join(dist, 'index.js')).href);
const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'safebind.node'));

const MANY = 9000; // most sockets go here
const OTHER = 9001; // the established connections
const NONE = 9002; // no socket at all

const servers = [await listen(MANY), await listen(OTHER), await listen(NONE)];
const t0 = performance.now();
await timeWaits(MANY, TIME_WAITS);
const clients = [];
for (let i = 0; i < ESTABLISHED; i++) {
  clients.push(
    await new Promise((ok) => {
      const s = net.connect(OTHER, '127.0.0.1', () => ok(s));
    }),
  );
}
const total = execFileSync('sh', ['-c', 'ss -Htan | wc -l'], { encoding: 'utf8' }).trim();
log(
  `table: ${total} TCP sockets built in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
    `(${TIME_WAITS} TIME_WAIT toward :${MANY}, ${ESTABLISHED} connections to :${OTHER})`,
);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function once(fn) {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

// /proc/net/tcp{,6} read and split in JS, matching the destination's hex form, as a tool without
// netlink would do it.
function procCount(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const files = [
    ['/proc/thread-self/net/tcp', '0100007F:' + hex],
    ['/proc/thread-self/net/tcp6', '0000000000000000FFFF00000100007F:' + hex],
  ];
  let n = 0;
  for (const [file, want] of files) {
    const lines = readFileSync(file, 'latin1').split('\n');
    for (let i = 1; i < lines.length; i++) {
      const f = lines[i].trim().split(/\s+/);
      if (f.length > 3 && f[2] === want && f[3] !== '0A') n++;
    }
  }
  return n;
}

// Every method once per round, rounds interleaved, so a noisy neighbour hits them all alike.
async function measure(port) {
  const methods = {
    portUsage: async () => (await portUsage({ host: '127.0.0.1', port })).inUse,
    addon: () => {
      const c = addon.socketCounts({
        protocol: 6,
        family: 0,
        states: ~(1 << 10) >>> 0,
        dst: { address: '127.0.0.1', port },
      });
      return c.reduce((a, b) => a + b, 0);
    },
    floor: () => JSON.parse(execFileSync(floorBin, ['127.0.0.1', String(port), '3'], { encoding: 'utf8' })),
    floor1: () =>
      JSON.parse(execFileSync(floorBin, ['127.0.0.1', String(port), '3', 'one'], { encoding: 'utf8' })),
    ss: () =>
      Number(execFileSync('sh', ['-c', `ss -Htan dst 127.0.0.1:${port} | wc -l`], { encoding: 'utf8' })),
    proc: () => procCount(port),
  };
  const ms = Object.fromEntries(Object.keys(methods).map((k) => [k, []]));
  const values = {};
  for (let round = 0; round <= runs; round++) {
    for (const [name, fn] of Object.entries(methods)) {
      const r = await once(fn);
      if (round === 0) continue; // warm-up
      if (name === 'floor' || name === 'floor1') {
        ms[name].push(r.value.medianMs); // its own in-process timing: no exec cost
        values[name] = r.value.inUse;
      } else {
        ms[name].push(r.ms);
        values[name] = r.value;
      }
    }
  }
  return { ms: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)])), values };
}

const rows = [];
for (const [label, port] of [
  ['most match', MANY],
  ['none match', NONE],
]) {
  rows.push({ label, ...(await measure(port)) });
}
for (const { label, ms, values } of rows) {
  const x = (a, b) => (a / b).toFixed(2) + 'x';
  log(
    `\n${label}: inUse portUsage=${values.portUsage} addon=${values.addon} C=${values.floor} C1=${values.floor1} ss=${values.ss} /proc=${values.proc}`,
  );
  log(`  portUsage()          ${ms.portUsage.toFixed(2)} ms`);
  log(`  addon socketCounts   ${ms.addon.toFixed(2)} ms`);
  log(
    `  C sock_diag floor    ${ms.floor.toFixed(2)} ms   portUsage/C = ${x(ms.portUsage, ms.floor)} (target <= 1.2x; two per-family dumps, as ss)`,
  );
  log(
    `  C one-walk floor     ${ms.floor1.toFixed(2)} ms   portUsage/C1 = ${x(ms.portUsage, ms.floor1)} (one TCPDIAG_GETSOCK dump, both families: what the addon does)`,
  );
  log(
    `  ss -Htan dst (spawn) ${ms.ss.toFixed(2)} ms   ss/portUsage = ${x(ms.ss, ms.portUsage)} (target > 1x when many match)`,
  );
  log(
    `  /proc parse in JS    ${ms.proc.toFixed(2)} ms   /proc/portUsage = ${x(ms.proc, ms.portUsage)} (target >= 2.5x)`,
  );
}
if (process.env.JSON) log(JSON.stringify(rows));
for (const c of clients) c.destroy();
for (const s of servers) s.close();
process.exit(0);
