#!/usr/bin/env node
// CLI start-up: the wall time of `safebind --version` and `safebind doctor --json`, from spawn to
// exit, against `node -e 0` (the floor: Node's own start-up), interleaved in one run, as medians and
// the ratio to the floor. `--compare FILE` adds the same two commands of another build of the CLI
// (a dist/cli/main.js built elsewhere, e.g. from main) to the same rounds: before and after side by side.
// Wall time (medians) is the figure asked for; the children's CPU time (means, all of a child's
// threads) is printed beside it because it is steadier on a shared machine. Runs itself inside a
// private network namespace, so the doctor reads a near-empty socket table and what is left is
// mostly loading.
//   node bench/cli-startup.mjs [ROUNDS=40] [--json] [--compare OTHER/dist/cli/main.js]
//   (needs `npx tsup` (or SAFEBIND_DIST=dir) and the addon built)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { error, log } from 'node:console';
import { fileURLToPath } from 'node:url';
import { enterPrivateNetns } from './netns.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const compareAt = args.indexOf('--compare');
const compare = compareAt >= 0 ? resolve(args[compareAt + 1] ?? '') : undefined;
const rounds = Number(args.find((a, i) => /^\d+$/.test(a) && i !== compareAt + 1) ?? 40);

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(resolve(process.env.SAFEBIND_DIST ?? join(here, '..', 'dist')), 'cli', 'main.js');
for (const file of [cli, compare].filter(Boolean)) {
  if (!existsSync(file)) {
    error(`${file} not found: run \`npx tsup\` first`);
    process.exit(1);
  }
}

enterPrivateNetns();

// Colour decisions and inherited Node options out of the way: every variant starts the same.
const env = { ...process.env, NO_COLOR: '1' };
delete env.NODE_OPTIONS;
delete env.FORCE_COLOR;

const node = process.execPath;
const variants = [
  ['node -e 0', [node, '-e', '0']],
  ['safebind --version', [node, cli, '--version']],
  ['safebind doctor --json', [node, cli, 'doctor', '--json']],
];
if (compare) {
  variants.push(['compare: safebind --version', [node, compare, '--version']]);
  variants.push(['compare: safebind doctor --json', [node, compare, 'doctor', '--json']]);
}

// CPU time of the children this process has waited for (cutime + cstime of /proc/self/stat), in ms.
// Clock ticks are coarse (10 ms), but the error of each reading is unbiased, so the mean over the
// rounds is good to a fraction of a millisecond. Unlike wall time it does not count the time a child
// waited for a core, so it is the steadier figure on a loaded machine.
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
function childCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // Fields from 3 (state) on: cutime and cstime are fields 16 and 17.
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) * TICK_MS;
}

function run([cmd, ...rest]) {
  const cpu0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, rest, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = childCpuMs() - cpu0;
  if (r.status !== 0) throw new Error(`${rest.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, cpuMs, stdout: r.stdout };
}

// Each command once as a check that it does its job (and to warm the page cache), then the rounds.
for (const [name, argv] of variants) {
  const { stdout } = run(argv);
  if (name.endsWith('--version') && !/^\d+\.\d+\.\d+/.test(stdout)) throw new Error(`${name}: ${stdout}`);
  if (name.endsWith('--json') && !Array.isArray(JSON.parse(stdout).addresses))
    throw new Error(`${name}: not a HostReport`);
}
const samples = variants.map(() => []);
const cpu = variants.map(() => 0);
for (let i = 0; i < rounds; i++) {
  // Rotate the order each round so no variant always runs first.
  for (let j = 0; j < variants.length; j++) {
    const k = (i + j) % variants.length;
    const r = run(variants[k][1]);
    samples[k].push(r.ms);
    cpu[k] += r.cpuMs;
  }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const floor = pct(samples[0], 50);
const rows = variants.map(([name], k) => ({
  variant: name,
  medianMs: pct(samples[k], 50),
  p90Ms: pct(samples[k], 90),
  ratio: pct(samples[k], 50) / floor,
  cpuMeanMs: cpu[k] / rounds,
  cpuRatio: cpu[k] / cpu[0],
}));

if (json) {
  log(JSON.stringify({ node: process.version, rounds, rows }));
} else {
  log(`CLI start-up, spawn to exit, ${rounds} rounds interleaved, Node ${process.version} (ms)`);
  log('                                      wall time                    CPU time (user+sys)');
  log('variant                              median     p90  ratio(median)    mean  ratio(mean)');
  for (const r of rows) {
    log(
      `${r.variant.padEnd(34)} ${r.medianMs.toFixed(1).padStart(8)} ${r.p90Ms.toFixed(1).padStart(7)}` +
        `  ${r.ratio.toFixed(2).padStart(12)}×  ${r.cpuMeanMs.toFixed(1).padStart(6)}  ${r.cpuRatio.toFixed(2).padStart(10)}×`,
    );
  }
}
