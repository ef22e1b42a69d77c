// worker.terminate() may land at any instant, inside any addon call: the process must survive it,
// every thread the addon started must be joined, and no descriptor may be left behind. The
// terminations run in a child process (test/native/fixtures/teardown-driver.mjs), so an abort shows
// as its exit code and signal instead of killing the test runner.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { netnsIt } from '../helpers/netns.js';

const driver = fileURLToPath(new URL('./fixtures/teardown-driver.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

interface Report {
  terminations: number;
  byMode: Record<string, number>;
  ms: number;
  before: Record<string, number>;
  after: Record<string, number>;
  unexpected: Array<{ mode: string; errors: string[] }>;
}

async function runDriver(args: string[]) {
  // Spawned after netnsIt moved this process into its own namespace: the child runs there too.
  const child = spawn(process.execPath, [driver, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { code, signal, stdout, stderr };
}

// Node's module loader reads a module through a descriptor of its own; a worker terminated in the
// middle of `import` leaves it open. That is Node's, not the addon's: module files are not counted.
function addonDescriptors(kinds: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(kinds).filter(([kind]) => !/\.(c|m)?js$/.test(kind)));
}

/**
 * Runs the driver and checks what every run must show: the process alive (exit 0, no abort), no
 * worker error but the termination, and no descriptor of the addon's left behind. Returns the report.
 */
async function terminated(args: string[]): Promise<Report> {
  const run = await runDriver(args);
  expect({ code: run.code, signal: run.signal }, run.stderr.slice(0, 2000)).toEqual({
    code: 0,
    signal: null,
  });
  expect(run.stderr).not.toMatch(/FATAL ERROR|Segmentation|Aborted/);
  const report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Report;
  expect(report.unexpected).toEqual([]);
  expect(addonDescriptors(report.after)).toEqual(addonDescriptors(report.before));
  return report;
}

describe('worker teardown', () => {
  netnsIt(
    'workers terminated at random instants inside addon calls, api calls, address watches and native churn runs leave the process alive and no descriptor behind',
    async () => {
      // The 'api' workers run the built package: `npm test` builds it first (npm run build:ts).
      expect(existsSync(dist), `${dist} is missing: run npm run build:ts`).toBe(true);
      // 320 terminations, 4 workers at a time, each 0-30 ms after the worker started its loop.
      const report = await terminated(['320', '4', '30', 'calls,api,churn,watch']);
      expect(report.terminations).toBe(320);
      expect(report.byMode).toEqual({ calls: 80, api: 80, churn: 80, watch: 80 });
    },
    90_000,
  );

  netnsIt(
    'a worker terminated between socket() and close() of its own leaves no descriptor behind: the addon closes what was never handed over',
    async () => {
      // Raw exports only, no built package: this one runs under qemu for the arm64 prebuild too.
      const report = await terminated(['60', '4', '20', 'sockets']);
      expect(report.byMode).toEqual({ sockets: 60 });
    },
    90_000,
  );

  netnsIt(
    'a worker terminated inside safeBind and its diagnosis leaves no descriptor behind',
    async () => {
      expect(existsSync(dist), `${dist} is missing: run npm run build:ts`).toBe(true);
      const report = await terminated(['120', '4', '20', 'bind']);
      expect(report.byMode).toEqual({ bind: 120 });
    },
    90_000,
  );
});
