// Rehearsing exhaustion safely: the same run, re-executed in a child process that makes a network
// namespace of its own (unshare(CLONE_NEWNET) on its main thread; as root directly, otherwise under
// `unshare --user --map-root-user`), sets that namespace's ip_local_port_range to `pool` ports and its
// tcp_tw_reuse to 0, and runs against its own loopback listener there.
//
// The host's settings are never touched, and nothing a caller sets can change that: the child does
// not trust its environment to say where it runs. It validates every option first, then creates the
// namespace itself and checks that its thread really moved into a new, empty one (a new inode, no
// link but lo) before it writes anything. The environment variable only carries the options; a
// caller who forges it gets a rehearsal in a fresh namespace, never a write to their own.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native, socketError } from '../sys/errors.js';
import type { Result } from '../types.js';
import { DEFAULT_POOL } from './defaults.js';
import { churnOptionsProblem, runChurn } from './run.js';
import { runPrivateChild } from './private-child.js';
import type { ChurnOptions, ChurnReport, RehearseOptions } from './types.js';

/**
 * Carries the run's options to the child (lib/bench/rehearse-entry.ts). The CLI still answers it
 * too (`bench churn` run with it set becomes a rehearsal child), under the same checks.
 */
export const REHEARSAL_ENV = 'SAFEBIND_CHURN_REHEARSAL';
export { DEFAULT_POOL };
/** A rehearsal stops at the first failure; this only bounds a pool that never runs out. */
const REHEARSAL_DURATION_MS = 60_000;
const MAX_POOL = 64_512;

type PlanOptions = Omit<RehearseOptions, 'signal' | 'entry' | 'progress'>;

/** What the parent hands the child: the run's options and the pool. Nothing about where it runs. */
export interface RehearsalPlan {
  options: PlanOptions;
  pool: number;
}

/** The option keys a plan may carry, with the type each must have. */
const PLAN_OPTION_TYPES: Record<keyof PlanOptions, 'number' | 'boolean' | 'string' | 'object'> = {
  durationMs: 'number',
  count: 'number',
  concurrency: 'number',
  mode: 'string',
  linger0: 'boolean',
  bindNoPort: 'boolean',
  sources: 'object',
  localPortRange: 'object',
  stopOnError: 'boolean',
  timeoutMs: 'number',
  sampleIntervalMs: 'number',
  pool: 'number',
};

function threadNetnsInode(): number {
  return statSync('/proc/thread-self/ns/net').ino;
}
/** The range of `pool` ports the namespace gets: inside the default range where it fits. */
export function rehearsalRange(pool: number): [number, number] {
  const lo = Math.min(32768, 65536 - pool);
  return [lo, lo + pool - 1];
}

/**
 * Inside the child's own namespace: ip_local_port_range set to the pool's ports
 * ({@link rehearsalRange}) and tcp_tw_reuse to 0, each read back. Resolves the range.
 */
export function setRehearsalRange(pool: number): Result<[number, number]> {
  const range = rehearsalRange(pool);
  for (const [name, value] of [
    ['net.ipv4.ip_local_port_range', `${range[0]} ${range[1]}`],
    ['net.ipv4.tcp_tw_reuse', '0'],
  ] as const) {
    const set = writeSysctl(name, value);
    if (!set.ok) return set;
  }
  return { ok: true, value: range };
}

/** The built entry `dist/bench/<name>.js` of this package (the capacity bench uses its own). */
export function defaultEntry(name = 'rehearse-entry'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'safebind')
          return join(dir, 'dist', 'bench', `${name}.js`);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return join(process.cwd(), 'dist', 'bench', `${name}.js`);
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
export function pinToOneCpu(): string[] {
  try {
    const cpu = /^Cpus_allowed_list:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (cpu === undefined || spawnSync('taskset', ['--version']).status !== 0) return [];
    return ['taskset', '-c', cpu];
  } catch {
    return [];
  }
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
  const wrong = churnOptionsProblem(rest);
  if (wrong) return invalid(wrong);
  if (!existsSync(entry))
    return invalid(`the rehearsal entry to run in the namespace is not built: ${entry}`);
  const plan: RehearsalPlan = { options: { ...rest, pool }, pool };
  const { result, prefix } = await runPrivateChild<ChurnReport>({
    entry,
    env: REHEARSAL_ENV,
    plan,
    prefix: pinToOneCpu,
    progress,
    ...(signal ? { signal } : {}),
    what: 'the rehearsal',
  });
  if (result.ok && result.value.rehearsal && prefix[2] !== undefined)
    result.value.rehearsal.pinnedCpu = Number(prefix[2]);
  return result;
}

export function writeSysctl(name: string, value: string): Result<void> {
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

/**
 * Reads a plan handed over in {@link REHEARSAL_ENV}, refusing anything but the keys and types a
 * parent writes; the option values are then checked as runChurn checks them.
 */
export function parseRehearsalPlan(raw: string): Result<RehearsalPlan> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return invalid(`${REHEARSAL_ENV} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return invalid(`${REHEARSAL_ENV} is not a rehearsal plan`);
  const { options, pool, ...extra } = value as Record<string, unknown>;
  const unknownKeys = Object.keys(extra);
  if (unknownKeys.length) return invalid(`${REHEARSAL_ENV} has unknown keys: ${unknownKeys.join(', ')}`);
  if (typeof pool !== 'number' || !Number.isInteger(pool) || pool < 1 || pool > MAX_POOL)
    return invalid(`${REHEARSAL_ENV}: pool must be 1-${MAX_POOL}, not ${String(pool)}`);
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return invalid(`${REHEARSAL_ENV}: options must be an object`);
  for (const [key, v] of Object.entries(options)) {
    const type = PLAN_OPTION_TYPES[key as keyof PlanOptions];
    if (type === undefined) return invalid(`${REHEARSAL_ENV}: unknown option ${key}`);
    if (v !== undefined && typeof v !== type)
      return invalid(`${REHEARSAL_ENV}: option ${key} must be a ${type}`);
  }
  const o = options as PlanOptions;
  if (o.localPortRange !== undefined && !(Array.isArray(o.localPortRange) && o.localPortRange.length === 2))
    return invalid(`${REHEARSAL_ENV}: localPortRange must be [lo, hi]`);
  const wrong = churnOptionsProblem(o);
  if (wrong) return invalid(`${REHEARSAL_ENV}: ${wrong}`);
  return { ok: true, value: { options: o, pool } };
}

/**
 * In the child: the rehearsal plan from the environment (checked, not trusted), or undefined when
 * this is no rehearsal.
 */
export function rehearsalPlanFromEnv(): Result<RehearsalPlan> | undefined {
  const raw = process.env[REHEARSAL_ENV];
  if (raw === undefined || raw === '') return undefined;
  return parseRehearsalPlan(raw);
}

/**
 * Moves this thread into a network namespace it creates now, and proves it did: the namespace inode
 * of the thread changed, and the namespace holds nothing but lo. Only then may sysctls be written:
 * they can belong to no namespace but this new one. Needs CAP_SYS_ADMIN (root, or root of a user
 * namespace of our own).
 */
export function enterNamespaceOfOwn(): Result<void> {
  const load = native();
  if (!load.ok) return load;
  let before: number;
  try {
    before = threadNetnsInode();
  } catch (e) {
    return invalid(`cannot read this thread's namespace: ${(e as Error).message}`);
  }
  const rc = load.binding.unshareNet();
  if (rc < 0)
    return { ok: false, error: socketError('unshare', -rc, { detail: 'a network namespace of its own' }) };
  let links: string[];
  try {
    if (threadNetnsInode() === before) return invalid('unshare returned, but this thread did not move');
    links = readFileSync('/proc/thread-self/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .map((l) => l.split(':')[0]?.trim() ?? '')
      .filter(Boolean);
  } catch (e) {
    return invalid(`cannot check the new namespace: ${(e as Error).message}`);
  }
  if (links.length !== 1 || links[0] !== 'lo')
    return invalid(`the new namespace is not empty (links: ${links.join(' ')}); refusing to set sysctls`);
  return { ok: true, value: undefined };
}

/**
 * In the child: every option checked, then a namespace of its own (made here, not inherited), lo
 * up, the small pool, no TIME_WAIT reuse, then the run against its own listener, stopping at the
 * first failure.
 */
export async function runRehearsal(
  plan: RehearsalPlan,
  extra: Pick<ChurnOptions, 'signal' | 'onSample'> = {},
): Promise<Result<ChurnReport>> {
  // Checked again here, for callers that did not come through parseRehearsalPlan.
  if (!Number.isInteger(plan.pool) || plan.pool < 1 || plan.pool > MAX_POOL)
    return invalid(`pool must be 1-${MAX_POOL}, not ${plan.pool}`);
  const wrong = churnOptionsProblem(plan.options);
  if (wrong) return invalid(wrong);
  const entered = enterNamespaceOfOwn();
  if (!entered.ok) return entered;
  const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (lo.status !== 0) {
    return {
      ok: false,
      error: socketError('ip', 1, { detail: `link set lo up: ${lo.stderr || lo.error?.message}` }),
    };
  }
  const ranged = setRehearsalRange(plan.pool);
  if (!ranged.ok) return ranged;
  const range = ranged.value;
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
