#!/usr/bin/env node
// The node loop's own cost, without the CLI around it: in one warm process, interleaved, a bare
// net.connect + destroy loop and lib/bench's node driver (bundled by esbuild into bench/bin/),
// against one listener thread of the addon. Prints each round and the median ratio driver / bare.
//   node bench/churn-node-ab.mjs [SECONDS=2] [ROUNDS=5]      (needs the addon built)
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { log } from 'node:console';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bareConnectLoop, startAddonListener } from './bare-loop.mjs';
import { enterPrivateNetns } from './netns.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.argv[2] ?? 2);
const rounds = Number(process.argv[3] ?? 5);

enterPrivateNetns();
const bundle = join(here, 'bin', 'node-driver.mjs');
execFileSync('npx', [
  'esbuild',
  join(here, '..', 'lib', 'bench', 'node-driver.ts'),
  '--bundle',
  '--platform=node',
  '--format=esm',
  `--outfile=${bundle}`,
  '--external:hdr-histogram-js',
  '--log-level=warning',
]);
const { startNodeDriver } = await import(pathToFileURL(bundle).href);
const { addon, id, port } = startAddonListener();

function bare(linger0) {
  return bareConnectLoop(port, seconds, linger0);
}

async function driver(linger0) {
  const d = startNodeDriver({
    target: { family: 4, address: '127.0.0.1', port },
    sources: [],
    linger0,
    bindNoPort: false,
    concurrency: 1,
    count: 0,
    durationMs: seconds * 1000,
    timeoutMs: 0,
    stopOnError: false,
  });
  const o = await d.done;
  return o.connects / (o.elapsedNs / 1e9);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const linger0 of [false, true]) {
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const b = await bare(linger0);
    const d = await driver(linger0);
    ratios.push(d / b);
    log(
      `${linger0 ? 'linger0' : 'plain'} round ${r + 1}: bare ${Math.round(b)} driver ${Math.round(d)} ${(d / b).toFixed(3)}`,
    );
  }
  log(`${linger0 ? 'linger0' : 'plain'}: median driver / bare ${median(ratios).toFixed(3)}`);
}
addon.churnListenerClose(id);
