// Runs a fixture application as a user would: `node --import safebind/register app.mjs` (or -r, or
// NODE_OPTIONS), from the package root so `safebind/register` resolves to the built dist/ through the
// package's own exports. Children start in whatever network namespace the test has entered.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildBin, root } from '../cli/cli.js';

export const fixtures = join(root, 'test', 'register', 'fixtures');

/** Builds dist/ when lib/ is newer (shared with the CLI tests, under their lock). */
export function buildDist(): void {
  buildBin();
  if (!existsSync(join(root, 'dist', 'register.js')) || !existsSync(join(root, 'dist', 'register.cjs'))) {
    throw new Error('tsup did not produce dist/register.js and dist/register.cjs');
  }
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node …nodeArgs fixtures/app …args` with `env` added to a copy of this environment (without
 * NODE_OPTIONS and SAFEBIND_* unless given), and resolves when it exits. Killed after `timeoutMs`.
 */
export function runApp(
  nodeArgs: string[],
  app: string,
  args: Array<string | number>,
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<Run> {
  const base = { ...process.env };
  delete base['NODE_OPTIONS'];
  for (const k of Object.keys(base)) if (k.startsWith('SAFEBIND_EXPLAIN')) delete base[k];
  const child = spawn(process.execPath, [...nodeArgs, join(fixtures, app), ...args.map(String)], {
    cwd: root,
    env: { ...base, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((ok, fail) => {
    child.once('error', fail);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      ok({ status, signal, stdout, stderr });
    });
  });
}

/** The `safebind:` blocks of stderr, each its first line and the indented lines under it. */
export function blocks(stderr: string): string[] {
  const out: string[] = [];
  let open = false;
  for (const line of stderr.split('\n')) {
    if (line.startsWith('safebind:')) {
      out.push(line);
      open = true;
    } else if (open && line.startsWith('  ')) out[out.length - 1] += `\n${line}`;
    else open = false;
  }
  return out;
}

export const IMPORT = ['--import', 'safebind/register'];
export const REQUIRE = ['-r', 'safebind/register'];
