#!/usr/bin/env node
// The floors of `bench churn`, side by side in one run against one listener (the addon's listener
// thread): `--mode native --concurrency 1` against a plain C connect+close loop (bench/connect_floor.c),
// and `--mode node` against a bare net.connect + destroy loop. Prints the figures and the ratios.
// Runs itself inside a private network namespace so the host's socket table is left alone.
//   node bench/churn-floor.mjs [SECONDS=3] [ROUNDS=3]      (needs `npx tsup` and the addon built)
// SAFEBIND_BASELINE_DIST=dir adds `--mode node` from a dist built elsewhere (an older commit), in
// the same rounds, so a change to the node loop is measured side by side with what it replaces.
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { log } from 'node:console';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bareConnectLoop, startAddonListener } from './bare-loop.mjs';
import { enterPrivateNetns } from './netns.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 3);

enterPrivateNetns();
execFileSync('mkdir', ['-p', join(here, 'bin')]);
execFileSync('cc', [
  '-O2',
  '-Wall',
  '-Wextra',
  '-o',
  join(here, 'bin', 'connect_floor'),
  join(here, 'connect_floor.c'),
]);

// The shared listener: the addon's listener thread, the same one `bench churn` starts for itself.
const { addon, id, port } = startAddonListener();
const cli = join(here, '..', 'dist', 'cli', 'main.js');
const baselineDist = process.env.SAFEBIND_BASELINE_DIST;
const baselineCli = baselineDist ? join(baselineDist, 'cli', 'main.js') : undefined;

function floorC(linger0) {
  const args = ['127.0.0.1', String(port), String(seconds), ...(linger0 ? ['--linger0'] : [])];
  return JSON.parse(execFileSync(join(here, 'bin', 'connect_floor'), args, { encoding: 'utf8' })).ratePerSec;
}

function safebind(mode, linger0, bin = cli) {
  const args = [
    bin,
    'bench',
    'churn',
    '--target',
    `127.0.0.1:${port}`,
    '--duration',
    String(seconds),
    '--mode',
    mode,
    '--json',
  ];
  if (linger0) args.push('--linger0');
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })).ratePerSec;
}

function floorNode(linger0) {
  return bareConnectLoop(port, seconds, linger0);
}

// The same bare loop in a fresh process of its own, as the C loop and the CLI runs are: the loop in
// this process is warm (JIT-compiled) after its first round, a fresh process is not.
const BARE_CHILD = `const net = require('node:net');
const [port, seconds, linger0] = [Number(process.argv[1]), Number(process.argv[2]), process.argv[3] === '1'];
let n = 0; const t0 = performance.now(); const end = t0 + seconds * 1000;
const one = () => {
  if (performance.now() >= end) return console.log(n / ((performance.now() - t0) / 1000));
  const s = net.connect({ host: '127.0.0.1', port });
  s.once('connect', () => { n++; if (linger0) s.resetAndDestroy(); else s.destroy(); one(); });
  s.once('error', () => one());
};
one();`;
function floorNodeFresh(linger0) {
  const args = ['-e', BARE_CHILD, String(port), String(seconds), linger0 ? '1' : '0'];
  return Number(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const linger0 of [false, true]) {
  const c = [],
    nat = [],
    bare = [],
    node = [],
    fresh = [],
    base = [];
  for (let r = 0; r < rounds; r++) {
    // Interleaved, so drift in a shared machine hits both sides of each ratio alike.
    c.push(floorC(linger0));
    nat.push(safebind('native', linger0));
    bare.push(await floorNode(linger0));
    node.push(safebind('node', linger0));
    fresh.push(floorNodeFresh(linger0));
    if (baselineCli) base.push(safebind('node', linger0, baselineCli));
    log(
      `round ${r + 1} ${linger0 ? 'linger0' : 'plain'}: C ${c.at(-1)} native ${nat.at(-1)} bare ${bare.at(-1)} ` +
        `node ${node.at(-1)} bare-fresh ${fresh.at(-1)}${baselineCli ? ` baseline node ${base.at(-1)}` : ''} (node/bare ${(node.at(-1) / bare.at(-1)).toFixed(3)}, node/bare-fresh ${(node.at(-1) / fresh.at(-1)).toFixed(3)})`,
    );
  }
  const f = (x) => Math.round(median(x)).toLocaleString('en-US');
  rows.push(
    `| ${linger0 ? 'SO_LINGER {1,0}' : 'plain close (TIME_WAIT)'} | ${f(c)} | ${f(nat)} | **${(median(nat) / median(c)).toFixed(3)}** | ${f(bare)} | ${f(node)} | **${(median(node) / median(bare)).toFixed(3)}** | ${f(fresh)} | **${(median(node) / median(fresh)).toFixed(3)}** |` +
      (baselineCli ? ` ${f(base)} | ${(median(base) / median(fresh)).toFixed(3)} |` : ''),
  );
}
addon.churnListenerClose(id);
log(
  `${rounds} rounds of ${seconds} s each, medians, connects per second, concurrency 1, one listener thread:\n`,
);
log(
  '| close | C loop | native | native / C | bare net.connect | node | node / bare |' +
    ' bare, fresh process | node / fresh |' +
    (baselineCli ? ' baseline node | baseline / fresh |' : ''),
);
log(
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |' + (baselineCli ? ' ---: | ---: |' : ''),
);
for (const row of rows) log(row);
