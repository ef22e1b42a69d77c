#!/usr/bin/env node
// Issue 16's benchmark: one `safebind exporter` scrape over about 200,000 TCP sockets toward 5,000
// destinations, against the raw dump it needs — bench/sockdiag_floor.c in `all` mode: the single
// TCPDIAG_GETSOCK dump of every socket but LISTEN and the ones only bound (BOUND_INACTIVE), no
// filter, counted in C — side by side, rounds interleaved. Also portUsage() against the one-walk C
// floor on the same table, and the old way (safebind/prometheus with `destinations`: one filtered
// dump per destination) on a sample of destinations, extrapolated. Runs itself inside a private network namespace (host untouched).
//   node bench/exporter-scrape.mjs [ROUNDS=9]   (needs `npx tsup` and the addon built)
//   DESTS=5000 EACH=40 by default: DESTS × EACH TIME_WAIT sockets (tw_fill.c, one process).
import { execFileSync, spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { log } from 'node:console';
import { join, dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { enterPrivateNetns } from './netns.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[2] ?? 9);
const DESTS = Number(process.env.DESTS ?? 5000);
const EACH = Number(process.env.EACH ?? 40);
const OLD_SAMPLE = Number(process.env.OLD_SAMPLE ?? 50);
const PORT = 9000;

enterPrivateNetns();
execFileSync('sysctl', ['-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535']);
execFileSync('sysctl', ['-q', '-w', 'net.ipv4.tcp_tw_reuse=0']);
execFileSync('sysctl', ['-q', '-w', `net.ipv4.tcp_max_tw_buckets=${DESTS * EACH + 100_000}`]);
execFileSync('mkdir', ['-p', join(here, 'bin')]);
const floorBin = join(here, 'bin', 'sockdiag_floor');
const fillBin = join(here, 'bin', 'tw_fill');
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', floorBin, join(here, 'sockdiag_floor.c')]);
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', fillBin, join(here, 'tw_fill.c')]);
const dist = resolve(process.env.SAFEBIND_DIST ?? join(here, '..', 'dist'));
const { portUsage } = await import(pathToFileURL(join(dist, 'index.js')).href);
const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'safebind.node'));

const destOf = (d) => `127.0.${1 + Math.floor(d / 250)}.${1 + (d % 250)}`;
const t0 = performance.now();
log(execFileSync(fillBin, [String(PORT), String(DESTS), String(EACH)], { encoding: 'utf8' }).trim());
const filledAt = performance.now();
const count = () => Number(execFileSync('sh', ['-c', 'ss -Htan | wc -l'], { encoding: 'utf8' }).trim());
const before = count();
log(`table: ${before} TCP sockets, filled in ${((filledAt - t0) / 1000).toFixed(1)} s; TIME_WAIT lasts 60 s`);

/** Starts the exporter (the built bin) and resolves its /metrics URL. */
function exporter(args) {
  const child = spawn(
    process.execPath,
    [join(dist, 'cli', 'main.js'), 'exporter', '--listen', '127.0.0.1:0', ...args],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return new Promise((ok, ko) => {
    let err = '';
    child.on('exit', (c) => ko(new Error(`exporter exited ${c}: ${err}`)));
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /listening on (http:\S+)/.exec(err);
      if (m) ok({ url: m[1], child });
    });
  });
}
const addonDests = new Uint8Array(DESTS * 19); // the packing of prepareDests() in lib/host/netns.ts
for (let d = 0; d < DESTS; d++) {
  addonDests.set([4, ...destOf(d).split('.').map(Number)], d * 19);
  addonDests.set([PORT >> 8, PORT & 0xff], d * 19 + 17);
}
const allDests = Array.from({ length: DESTS }, (_, d) => `${destOf(d)}:${PORT}`);
const withDests = await exporter([...allDests.flatMap((d) => ['--dest', d]), '--top', '20']);
const topOnly = await exporter(['--top', '20']);
/**
 * One scrape as a scraper times it: from the GET to the body's last byte. The body is decoded after
 * the clock stops (`text` below): turning 1.7 MB into a JavaScript string is this client's work, not
 * the exporter's.
 */
const get = (url) =>
  new Promise((ok, ko) => {
    http
      .get(url, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => ok(chunks));
      })
      .on('error', ko);
  });
const text = (chunks) => Buffer.concat(chunks).toString('utf8');
await get(withDests.url); // warm-up: JIT, first thread
await get(topOnly.url);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const own = (text) => Number(/^safebind_exporter_scrape_duration_seconds (\S+)$/m.exec(text)[1]) * 1000;
const methods = {
  floorAll: () => JSON.parse(execFileSync(floorBin, ['0.0.0.0', '0', '3', 'all'], { encoding: 'utf8' })),
  // The same dump asking for the sockets only bound too (BOUND_INACTIVE): the kernel then walks the
  // bind hash as well. What the exporter asked for before it left them out.
  floorAllBound: () =>
    JSON.parse(execFileSync(floorBin, ['0.0.0.0', '0', '3', 'all', 'bound'], { encoding: 'utf8' })),
  scrape5000: () => get(withDests.url),
  scrapeTop: () => get(topOnly.url),
  // The addon's namespace read alone (thread, setns, both dumps, grouping), in this process.
  addonTop: () =>
    addon.netnsRead({ path: '/proc/self/ns/net', dests: new Uint8Array(0), top: 20, files: [] }),
  addon5000: () => addon.netnsRead({ path: '/proc/self/ns/net', dests: addonDests, top: 20, files: [] }),
  floor1: () =>
    JSON.parse(execFileSync(floorBin, [destOf(0), String(PORT), '3', 'one'], { encoding: 'utf8' })),
  portUsage: () => portUsage({ host: destOf(0), port: PORT }),
  floor1None: () =>
    JSON.parse(execFileSync(floorBin, ['127.0.0.1', '9002', '3', 'one'], { encoding: 'utf8' })),
  portUsageNone: () => portUsage({ host: '127.0.0.1', port: 9002 }),
};
const ms = Object.fromEntries(Object.keys(methods).map((k) => [k, []]));
const selfMs = { scrape5000: [], scrapeTop: [] };
const seen = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, fn] of Object.entries(methods)) {
    const t = performance.now();
    const v = await fn();
    const wall = performance.now() - t;
    if (name.startsWith('floor')) {
      ms[name].push(v.medianMs);
      seen[name] = v.inUse;
    } else if (name.startsWith('scrape')) {
      ms[name].push(wall);
      const body = text(v);
      selfMs[name].push(own(body));
      seen[name] = body;
    } else {
      ms[name].push(wall);
      seen[name] = v.inUse;
    }
  }
}
const after = count();

// The old way: safebind/prometheus with destinations, one filtered dump per destination.
const { Registry } = await import('prom-client');
const { registerMetrics } = await import(pathToFileURL(join(dist, 'prometheus.js')).href);
const registry = new Registry();
registerMetrics(registry, { destinations: allDests.slice(0, OLD_SAMPLE) });
const tOld = performance.now();
await registry.metrics();
const oldMs = performance.now() - tOld;

const scraped = seen.scrape5000;
const inUse = (d) =>
  Number(
    new RegExp(
      `^safebind_port_pool_in_use\\{[^}]*destination="${d.replaceAll('.', '\\.')}"\\} (\\d+)$`,
      'm',
    ).exec(scraped)?.[1],
  );
const series = scraped.split('\n').filter((l) => l.startsWith('safebind_port_pool_in_use{')).length;
const x = (a, b) => (a / b).toFixed(2) + 'x';
const m = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)]));
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
log(`load average ${load}; ${rounds} rounds; table ${before} → ${after} sockets over the measurement`);
log(`C one walk, all sockets (floorAll)   ${m.floorAll.toFixed(1)} ms  counted ${seen.floorAll}`);
log(
  `C one walk, asking for bound-only sockets too  ${m.floorAllBound.toFixed(1)} ms  counted ${seen.floorAllBound}`,
);
log(
  `exporter scrape, ${DESTS} --dest + top 20  ${m.scrape5000.toFixed(1)} ms (HTTP GET to the last byte)  self-reported ${median(selfMs.scrape5000).toFixed(1)} ms  ` +
    `→ ${x(m.scrape5000, m.floorAll)} the floor (target ≤ 1.5x); ${series} pool series; in use toward ${allDests[0]} = ${inUse(allDests[0])}, toward ${allDests[DESTS - 1]} = ${inUse(allDests[DESTS - 1])}`,
);
log(
  `exporter scrape, top 20 only           ${m.scrapeTop.toFixed(1)} ms  self-reported ${median(selfMs.scrapeTop).toFixed(1)} ms → ${x(m.scrapeTop, m.floorAll)} the floor`,
);
log(
  `addon netnsRead alone, top 20      ${m.addonTop.toFixed(1)} ms → ${x(m.addonTop, m.floorAll)} the floor`,
);
log(
  `addon netnsRead alone, ${DESTS} dests  ${m.addon5000.toFixed(1)} ms → ${x(m.addon5000, m.floorAll)} the floor`,
);
log(
  `old way (safebind/prometheus, one dump per destination): ${OLD_SAMPLE} destinations ${oldMs.toFixed(0)} ms → ` +
    `${(((oldMs / OLD_SAMPLE) * DESTS) / 1000).toFixed(1)} s for ${DESTS} (extrapolated)`,
);
log(
  `portUsage(${allDests[0]}) ${m.portUsage.toFixed(2)} ms vs C one-walk ${m.floor1.toFixed(2)} ms → ${x(m.portUsage, m.floor1)} (target ≤ 1.1x); inUse ${seen.portUsage} / C ${seen.floor1}`,
);
log(
  `portUsage(none match) ${m.portUsageNone.toFixed(2)} ms vs C one-walk ${m.floor1None.toFixed(2)} ms → ${x(m.portUsageNone, m.floor1None)}; inUse ${seen.portUsageNone} / C ${seen.floor1None}`,
);
if (process.env.JSON) log(JSON.stringify({ m, selfMs, oldMs, before, after, load }));
withDests.child.kill();
topOnly.child.kill();
process.exit(0);
