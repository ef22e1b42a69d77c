// `safebind bench capacity` as a library: how many concurrent connections toward one destination
// each approach holds before the first failure — Node's `localAddress`, safebind/agent with 1, 2 and
// 4 sources, and toward two destinations at once. It runs in a child that makes a network namespace
// of its own with a range of `pool` ports (as the churn rehearsal does; the host is never touched).
import { existsSync } from 'node:fs';
import { socketError } from '../sys/errors.js';
import type { Result } from '../types.js';
import { capacityPlanProblem, DEFAULT_CAPACITY_SOURCES, runCapacity } from './capacity-run.js';
import type { CapacityPlan, CapacityReport } from './capacity-types.js';
import { DEFAULT_POOL } from './defaults.js';
import { runPrivateChild } from './private-child.js';
import { defaultEntry } from './rehearse.js';

/** Carries the plan to the child; only the pool and the sources, never where it runs. */
export const CAPACITY_ENV = 'SAFEBIND_CAPACITY_PLAN';

function invalid(what: string): Result<never> {
  return { ok: false, error: socketError('safebind', 22, { detail: what }) };
}

/** Options of {@link benchCapacity}. */
export interface CapacityOptions {
  /** Ports in the namespace's range (default 1000). */
  pool?: number;
  /** Source addresses, all of one family (default four loopback addresses). */
  sources?: string[];
  /** The built child entry; by default this package's dist/bench/capacity-entry.js. */
  entry?: string;
}

/** Runs the capacity bench in a private namespace and resolves its report. */
export async function benchCapacity(options: CapacityOptions = {}): Promise<Result<CapacityReport>> {
  const plan: CapacityPlan = {
    pool: options.pool ?? DEFAULT_POOL,
    sources: options.sources && options.sources.length > 0 ? options.sources : DEFAULT_CAPACITY_SOURCES,
  };
  const wrong = capacityPlanProblem(plan);
  if (wrong) return invalid(wrong);
  const entry = options.entry ?? defaultEntry('capacity-entry');
  if (!existsSync(entry)) return invalid(`the capacity bench's entry is not built: ${entry}`);
  const { result } = await runPrivateChild<CapacityReport>({
    entry,
    env: CAPACITY_ENV,
    plan,
    what: 'the capacity child',
  });
  return result;
}

/** Reads the plan from the environment, refusing anything but { pool, sources }. */
export function parseCapacityPlan(raw: string | undefined): Result<CapacityPlan> {
  if (raw === undefined || raw === '') return invalid(`no ${CAPACITY_ENV} plan`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return invalid(`${CAPACITY_ENV} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return invalid(`${CAPACITY_ENV} is not a plan`);
  const { pool, sources, ...extra } = value as Record<string, unknown>;
  if (Object.keys(extra).length)
    return invalid(`${CAPACITY_ENV} has unknown keys: ${Object.keys(extra).join(', ')}`);
  const plan = { pool, sources } as CapacityPlan;
  const wrong = capacityPlanProblem(plan);
  return wrong ? invalid(`${CAPACITY_ENV}: ${wrong}`) : { ok: true, value: plan };
}

/** In the child: the plan checked, the run, one JSON line on stdout. */
export async function capacityChild(): Promise<void> {
  const plan = parseCapacityPlan(process.env[CAPACITY_ENV]);
  const result = plan.ok ? await runCapacity(plan.value) : plan;
  if (!result.ok) process.stderr.write(`safebind: bench capacity refused: ${result.error.message}\n`);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = result.ok ? 0 : 1;
  // The listeners are closed; a lingering handle must not keep the child alive.
  setImmediate(() => process.exit());
}
