#!/usr/bin/env node
// Issue 16's forecast reading against the count portUsage() makes: with N TIME_WAIT sockets toward
// one destination, one sock_diag dump that only counts them (socketCounts, portUsage's reading) vs
// one that lists them with their cookies and timers and keeps them in a Map by cookie (what
// forecast() does at each of its two readings, lib/host/connection-sample.ts), plus the set
// difference of two such readings. Interleaved rounds, medians. Runs in a private namespace.
//   node bench/forecast-sample.mjs [ROUNDS=15]   (needs the addon built)
import { execFileSync } from 'node:child_process';
import { log } from 'node:console';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { enterPrivateNetns } from './netns.mjs';
import { listen, timeWaits } from './time-waits.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[2] ?? 15);
const SIZES = (process.env.SIZES ?? '1000,10000,30000').split(',').map(Number);
const PORT = 9000;

enterPrivateNetns();
execFileSync('sysctl', ['-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535']);
execFileSync('sysctl', ['-q', '-w', 'net.ipv4.tcp_tw_reuse=0']);
const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'safebind.node'));
const c = addon.constants;
const query = {
  protocol: c.IPPROTO_TCP,
  family: c.AF_UNSPEC,
  states: (0xffffffff & ~(1 << c.tcpStates.LISTEN)) >>> 0,
  dst: { address: '127.0.0.1', port: PORT },
};

const server = await listen(PORT);

// What lib/host/connection-sample.ts does: typed arrays from the addon, cookies sorted, TIME_WAIT timers kept.
function reading() {
  const raw = addon.socketIdentities(query);
  const cookies = new BigUint64Array(raw.cookies).sort();
  const timers = [];
  for (let i = 0; i < raw.states.length; i++) if (raw.timers[i] === 3) timers.push(raw.expiresMs[i]);
  return { cookies, timers };
}

// The first way, for comparison: an object per socket from socketList, kept in a Map by cookie.
function readingAsObjects() {
  const raw = addon.socketList(query, 0x7fffffff);
  const map = new Map();
  for (const s of raw)
    map.set(s.cookie, s.timer === 3 ? { state: s.state, timeWaitMs: s.expiresMs } : { state: s.state });
  return map;
}

function newOnes(a, b) {
  let i = 0;
  let n = 0;
  for (let j = 0; j < b.length; j++) {
    const cookie = b[j];
    while (i < a.length && a[i] < cookie) i++;
    if (i >= a.length || a[i] !== cookie) n++;
  }
  return n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let made = 0;
log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
log(
  '| sockets toward the destination | count dump (ms) | cookie reading, typed arrays (ms) | ratio | objects + Map (ms) | ratio | merge walk of two readings (ms) |',
);
log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of SIZES) {
  await timeWaits(PORT, size - made);
  made = size;
  const counts = [];
  const lists = [];
  const diffs = [];
  const objects = [];
  for (let r = 0; r < rounds; r++) {
    const o = performance.now();
    readingAsObjects();
    objects.push(performance.now() - o);
    let t = performance.now();
    addon.socketCounts(query);
    counts.push(performance.now() - t);
    t = performance.now();
    const a = reading();
    lists.push(performance.now() - t);
    const b = reading();
    t = performance.now();
    newOnes(a.cookies, b.cookies);
    diffs.push(performance.now() - t);
  }
  const [cm, lm, om, dm] = [median(counts), median(lists), median(objects), median(diffs)];
  log(
    `| ${size.toLocaleString('en-US')} | ${cm.toFixed(1)} | ${lm.toFixed(1)} | ${(lm / cm).toFixed(2)}× | ${om.toFixed(1)} | ${(om / cm).toFixed(2)}× | ${dm.toFixed(2)} |`,
  );
}
log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
server.close();
process.exit(0);
