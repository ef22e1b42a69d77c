// Rehearsing exhaustion safely: the same run, re-executed inside a private network namespace
// (`unshare --net` as root, `unshare --user --map-root-user --net` otherwise) whose
// ip_local_port_range holds `pool` ports and whose tcp_tw_reuse is 0, against its own loopback
// listener. The host's settings are never touched: the sysctls written here belong to the namespace
// the child was born in, and it dies with the child.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { socketError } from '../../sys/errors.js';
import type { Result } from '../../types.js';
import { DEFAULT_POOL } from './defaults.js';
import { runChurn } from './run.js';
import type { ChurnOptions, ChurnReport, RehearseOptions } from './types.js';

/** Carries the run's options to the child; its presence is what makes the CLI a rehearsal child. */
export const REHEARSAL_ENV = 'SAFEBIND_CHURN_REHEARSAL';
export { DEFAULT_POOL };
/** A rehearsal stops at the first failure; this only bounds a pool that never runs out. */
const REHEARSAL_DURATION_MS = 60_000;
const MAX_POOL = 64_512;

interface RehearsalPlan {
  options: Omit<RehearseOptions, 'signal' | 'entry' | 'progress'>;
  pool: number;
  /** The parent's network namespace inode: the child refuses to write sysctls in that one. */
  parentNetns: number;
}

function netnsInode(): number {
  return statSync('/proc/self/ns/net').ino;
}

/** The range of `pool` ports the namespace gets: inside the default range where it fits. */
export function rehearsalRange(pool: number): [number, number] {
  const lo = Math.min(32768, 65536 - pool);
  return [lo, lo + pool - 1];
}

function defaultEntry(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'safebind')
          return join(dir, 'dist', 'cli', 'main.js');
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return join(process.cwd(), 'dist', 'cli', 'main.js');
    dir = parent;
  }
}

function invalid(what: string): Result<never> {
  return { ok: false, error: socketError('safebind', 22, { detail: what }) };
}

/**
 * `taskset -c N` with the first CPU this process may use, or nothing when taskset is missing. On
 * loopback, when the client and the listener run on two CPUs, a few client sockets (about 1 in
 * 1000) are reset instead of entering TIME_WAIT as the server's FIN crosses their FIN_WAIT2 →
 * TIME_WAIT change; each such port comes back to the pool at once and moves the exhaustion point.
 * On one CPU that never happens (0 in 60,000 measured), so a rehearsal runs pinned.
 */
function pinToOneCpu(): string[] {
  try {
    const cpu = /^Cpus_allowed_list:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (cpu === undefined || spawnSync('taskset', ['--version']).status !== 0) return [];
    return ['taskset', '-c', cpu];
  } catch {
    return [];
  }
}

/** The ways into a namespace of our own, the likeliest to work first. */
function unshareVariants(): string[][] {
  const user = ['--user', '--map-root-user', '--net'];
  return process.geteuid?.() === 0 ? [['--net'], user] : [user, ['--net']];
}

/**
 * Runs the churn inside a private namespace with a pool of `pool` ports and resolves its report,
 * whose `rehearsal.exhaustedAt` is the attempt at which the pool ran out and whose `firstFailure`
 * carries the diagnosis made inside the namespace (where the small pool is what the host reader sees).
 */
export async function rehearseChurn(options: RehearseOptions = {}): Promise<Result<ChurnReport>> {
  const pool = options.pool ?? DEFAULT_POOL;
  if (!Number.isInteger(pool) || pool < 1 || pool > MAX_POOL)
    return invalid(`pool must be 1-${MAX_POOL}, not ${pool}`);
  const { signal, entry = defaultEntry(), progress = false, ...rest } = options;
  if (!existsSync(entry)) return invalid(`the CLI to re-run in the namespace is not built: ${entry}`);
  const plan: RehearsalPlan = { options: { ...rest, pool }, pool, parentNetns: netnsInode() };
  let lastError = '';
  for (const variant of unshareVariants()) {
    const pin = pinToOneCpu();
    const child = spawn(
      'unshare',
      [...variant, '--', ...pin, process.execPath, entry, 'bench', 'churn', '--json'],
      {
        env: { ...process.env, [REHEARSAL_ENV]: JSON.stringify(plan) },
        stdio: ['ignore', 'pipe', progress ? 'inherit' : 'pipe'],
      },
    );
    const onAbort = () => child.kill('SIGINT');
    signal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(-1));
      child.on('close', (c) => resolve(c ?? -1));
    });
    signal?.removeEventListener('abort', onAbort);
    const line = stdout.trim();
    if (line.startsWith('{')) {
      try {
        const result = JSON.parse(line) as Result<ChurnReport>;
        if (result.ok && result.value.rehearsal && pin[2] !== undefined)
          result.value.rehearsal.pinnedCpu = Number(pin[2]);
        return result;
      } catch {
        lastError = `the rehearsal printed something that is not JSON: ${line.slice(0, 200)}`;
        break;
      }
    }
    lastError = `unshare ${variant.join(' ')} exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`;
  }
  return { ok: false, error: socketError('unshare', 1, { detail: lastError }) };
}

function writeSysctl(name: string, value: string): Result<void> {
  const path = `/proc/sys/${name.replaceAll('.', '/')}`;
  try {
    writeFileSync(path, value);
    const read = readFileSync(path, 'utf8').trim().split(/\s+/).join(' ');
    if (read !== value) return invalid(`${name} reads "${read}" after writing "${value}"`);
    return { ok: true, value: undefined };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, error: socketError('write', Math.abs(err.errno ?? 1), { detail: path }) };
  }
}

/** In the child: the rehearsal plan from the environment, or undefined when this is no rehearsal. */
export function rehearsalPlanFromEnv(): RehearsalPlan | undefined {
  const raw = process.env[REHEARSAL_ENV];
  if (!raw) return undefined;
  return JSON.parse(raw) as RehearsalPlan;
}

/**
 * In the child, inside the fresh namespace: lo up, the small pool, no TIME_WAIT reuse, then the run
 * against its own listener, stopping at the first failure.
 */
export async function runRehearsal(
  plan: RehearsalPlan,
  extra: Pick<ChurnOptions, 'signal' | 'onSample'> = {},
): Promise<Result<ChurnReport>> {
  if (netnsInode() === plan.parentNetns) {
    return invalid('refusing to set sysctls: this process is not in a namespace of its own');
  }
  const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (lo.status !== 0) {
    return {
      ok: false,
      error: socketError('ip', 1, { detail: `link set lo up: ${lo.stderr || lo.error?.message}` }),
    };
  }
  const range = rehearsalRange(plan.pool);
  for (const [name, value] of [
    ['net.ipv4.ip_local_port_range', `${range[0]} ${range[1]}`],
    ['net.ipv4.tcp_tw_reuse', '0'],
  ] as const) {
    const set = writeSysctl(name, value);
    if (!set.ok) return set;
  }
  const { pool: _pool, ...options } = plan.options;
  const run = await runChurn({
    ...options,
    ...extra,
    // A listener on a port of the range would hold one port of the pool (connect skips ports that
    // are bound): keep it just below the range, so the pool is exactly `pool` ports.
    listenPort: range[0] - 1,
    stopOnError: true,
    durationMs: options.durationMs ?? (options.count ? undefined : REHEARSAL_DURATION_MS),
  });
  if (!run.ok) return run;
  const report = run.value;
  report.rehearsal = { pool: plan.pool, range, tcpTwReuse: 0 };
  // The pool runs out at connect (EADDRNOTAVAIL) or, when a source is bound with port 0, at bind.
  const f = report.firstFailure;
  if (
    f &&
    ((f.syscall === 'connect' && f.code === 'EADDRNOTAVAIL') ||
      (f.syscall === 'bind' && f.code === 'EADDRINUSE'))
  )
    report.rehearsal.exhaustedAt = f.attempt;
  return run;
}
