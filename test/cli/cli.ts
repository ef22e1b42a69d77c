// Runs the built `safebind` bin (dist/cli/main.js) as a user would. The bin is built once per test
// file when a source under lib/ is newer than it; the build takes a lock because other
// test files and engineers build the same dist/. Children are spawned from the test process, so
// they start inside whatever network namespace the test has entered.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(root, 'dist', 'cli', 'main.js');

/**
 * Builds dist/ with tsup (the package's build:ts) unless the bin is newer than every file of lib/.
 * The check runs under the lock too, so files built in parallel wait for one build, not make two.
 */
export function buildBin(): void {
  const stale = `[ ! -e ${bin} ] || [ -n "$(find lib tsup.config.ts -newer ${bin} -print -quit)" ]`;
  execFileSync('flock', ['/tmp/safebind-tsup.lock', 'sh', '-c', `if ${stale}; then npm run build:ts; fi`], {
    cwd: root,
    stdio: 'pipe',
  });
  if (!existsSync(bin)) throw new Error(`tsup did not produce ${bin}`);
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/**
 * Runs `safebind …args` and resolves when it exits. `env` is added to a copy of this process's
 * environment with colour decisions removed, so a test states the colour it wants.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
  wrapper: string[] = [],
): Promise<CliRun> {
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  delete base.CI;
  const started = performance.now();
  return new Promise((resolveRun, reject) => {
    const [file = process.execPath, ...before] = [...wrapper, process.execPath];
    const child = spawn(file, [...before, bin, ...args], {
      cwd: root,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolveRun({ status, stdout, stderr, ms: performance.now() - started }));
  });
}

/** A colour escape sequence anywhere in the text. */
// eslint-disable-next-line no-control-regex
export const ESCAPE = /\x1b\[/;

/** Lines of `text` with colour escapes removed. */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
