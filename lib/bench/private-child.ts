// The child that runs a benchmark inside a network namespace of its own (the churn rehearsal, the
// capacity bench): started with the privilege to make one (nothing as root, a user namespace of its
// own otherwise), handed its plan in an environment variable, and answering with one JSON line,
// a Result. The host is never touched: the child makes the namespace for itself.
import { spawn } from 'node:child_process';
import { socketError } from '../sys/errors.js';
import type { Result } from '../types.js';

/**
 * What runs the child with the privilege to make a namespace: nothing as root, a user namespace of
 * its own otherwise (where it is root of that namespace only). The likeliest to work first.
 */
export function privilegeVariants(): string[][] {
  const user = ['unshare', '--user', '--map-root-user', '--'];
  return process.geteuid?.() === 0 ? [[], user] : [user, []];
}

export interface PrivateChild {
  /** The built entry (a .js file) the child runs. */
  entry: string;
  /** The environment variable that carries the plan, and the plan. */
  env: string;
  plan: unknown;
  /** Put before node on the child's command line (a CPU pin: `taskset -c N`), per attempt. */
  prefix?: () => string[];
  /** The child's stderr goes to ours (its progress) rather than being kept for the error. */
  progress?: boolean;
  /** Aborting sends the child SIGINT: it stops and still answers. */
  signal?: AbortSignal;
  /** What the child is, for error texts: 'the rehearsal'. */
  what: string;
}

/**
 * Runs the child under each privilege variant in turn until one answers; resolves its Result and
 * the prefix it ran with. A child that answers it could not make its namespace (a failed
 * `unshare`) lets the next variant try.
 */
export async function runPrivateChild<T>(
  spec: PrivateChild,
): Promise<{ result: Result<T>; prefix: string[] }> {
  let lastError = '';
  for (const variant of privilegeVariants()) {
    const prefix = spec.prefix?.() ?? [];
    const argv = [...variant, ...prefix, process.execPath, spec.entry];
    const child = spawn(argv[0] ?? process.execPath, argv.slice(1), {
      env: { ...process.env, [spec.env]: JSON.stringify(spec.plan) },
      stdio: ['ignore', 'pipe', spec.progress ? 'inherit' : 'pipe'],
    });
    const onAbort = () => child.kill('SIGINT');
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(-1));
      child.on('close', (c) => resolve(c ?? -1));
    });
    spec.signal?.removeEventListener('abort', onAbort);
    const line = stdout.trim();
    if (line.startsWith('{')) {
      let result: Result<T>;
      try {
        result = JSON.parse(line) as Result<T>;
      } catch {
        lastError = `${spec.what} printed something that is not JSON: ${line.slice(0, 200)}`;
        break;
      }
      if (!result.ok && result.error.syscall === 'unshare') {
        lastError = result.error.message;
        continue;
      }
      return { result, prefix };
    }
    const how = variant.length ? variant.slice(0, -1).join(' ') : 'the child';
    lastError = `${how} exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`;
  }
  return { result: { ok: false, error: socketError('unshare', 1, { detail: lastError }) }, prefix: [] };
}
