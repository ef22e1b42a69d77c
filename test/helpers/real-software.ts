// Starting real software (from Debian) inside the test's own network namespace: find the binary or
// report it missing through unmet(), start it in the foreground with its output kept, kill it by pid
// when the test ends, and wait for the event that matters (its listener, its exit).
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished, type TestContext } from 'vitest';
import type { Netns } from './netns.js';
import { unmet } from './prerequisite.js';
import { tempDir } from './temp-dir.js';

/** The path of `binary`, or the test is skipped (failed under CI) saying it is not installed. */
export function need(ctx: TestContext, binary: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') unmet(ctx, `${binary} is not installed (.ci/run installs it)`);
  return path;
}

export interface Started {
  pid: number;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

/** Starts `argv` in the foreground (in this test's namespace); killed by pid when the test ends. */
export function start(argv: string[]): Started {
  const [file, ...args] = argv;
  const child = spawn(file ?? '', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  if (child.pid === undefined) throw new Error(`${file} did not start`);
  return { pid: child.pid, output: () => text, exited };
}

/** Waits until at least `count` sockets of `protocol` listen on `port` in this namespace. */
export async function listening(
  ns: Netns,
  port: number,
  count = 1,
  protocol: 'tcp' | 'udp' = 'tcp',
): Promise<void> {
  const flag = protocol === 'tcp' ? '-Htln' : '-Huln';
  for (let i = 0; i < 400; i++) {
    const lines = ns.sh(`ss ${flag} 'sport = :${port}'`).trim();
    if (lines !== '' && lines.split('\n').length >= count) return;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error(`fewer than ${count} ${protocol} listeners on port ${port}: ${ns.sh('ss -Htulnp')}`);
}

/** HAProxy in the foreground (-db), one TCP frontend bound as `bind` (HAProxy's syntax), files in a temp folder. */
export function startHaproxy(ctx: TestContext, bind: string): Started {
  const binary = need(ctx, 'haproxy');
  const dir = tempDir('safebind-haproxy-');
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    `global
  pidfile ${dir}/haproxy.pid
defaults
  mode tcp
  timeout connect 1s
  timeout client 1s
  timeout server 1s
frontend web
  bind ${bind}
  default_backend none
backend none
  server s 127.0.0.1:9
`,
  );
  return start([binary, '-db', '-f', conf]);
}
