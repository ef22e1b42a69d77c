// The capacity bench's measurement, run inside a network namespace the child made itself
// (enterNamespaceOfOwn, as the churn rehearsal): a range of `pool` ports, the sources on lo, two
// listeners, then for each approach connections opened one after the other and held until the first
// failure. Between approaches every client closes with RST (SO_LINGER 0), so no TIME_WAIT carries a
// port over into the next measurement.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { connectThroughPool, SourceConnectError } from '../api/pool-connect.js';
import { parseSourcePool } from '../api/source-pool.js';
import { parseHost } from '../sys/index.js';
import { socketError } from '../sys/errors.js';
import type { Result } from '../types.js';
import { MAX_CAPACITY_POOL } from './defaults.js';
import type { CapacityApproach, CapacityPlan, CapacityReport } from './capacity-types.js';
import { enterNamespaceOfOwn, setRehearsalRange } from './rehearse.js';

/** Sources when none are given: four loopback addresses, local in any namespace once lo is up. */
export const DEFAULT_CAPACITY_SOURCES = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];

function invalid(what: string): Result<never> {
  return { ok: false, error: socketError('safebind', 22, { detail: what }) };
}

/** The plan's own checks: a pool in bounds, sources that are IP addresses of one family. */
export function capacityPlanProblem(plan: CapacityPlan): string | undefined {
  if (!Number.isInteger(plan.pool) || plan.pool < 1 || plan.pool > MAX_CAPACITY_POOL)
    return `pool must be 1-${MAX_CAPACITY_POOL}, not ${plan.pool}`;
  if (!Array.isArray(plan.sources) || plan.sources.length === 0 || plan.sources.length > 16)
    return 'give 1 to 16 sources';
  const families = new Set<number>();
  for (const s of plan.sources) {
    const parsed = typeof s === 'string' ? parseHost(s) : undefined;
    if (!parsed?.ok) return `source ${String(s)} is not an IP address`;
    if (parsed.value.linkLocal) return `source ${s} is link-local; give a global or loopback address`;
    families.add(parsed.value.family);
  }
  if (families.size > 1) return 'sources must all be IPv4 or all IPv6';
  return undefined;
}

function ip(args: string[]): Result<void> {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, value: undefined };
  return invalid(`ip ${args.join(' ')}: ${r.stderr.trim() || r.error?.message || 'failed'}`);
}

interface Bench {
  port: number;
  accepted: Set<net.Socket>;
}

async function listen(
  destinations: string[],
  port: number,
): Promise<{ bench: Bench; servers: net.Server[] }> {
  const accepted = new Set<net.Socket>();
  const servers = await Promise.all(
    destinations.map(
      (host) =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer((s) => {
            accepted.add(s);
            s.on('error', () => {});
            s.on('close', () => accepted.delete(s));
          });
          server.once('error', reject);
          server.listen({ host, port, backlog: 4096 }, () => resolve(server));
        }),
    ),
  );
  return { bench: { port, accepted }, servers };
}

function connectLocal(host: string, port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Opens connections in turn over `destinations` until the first failure (or `cap`), then RSTs them all. */
async function fill(
  base: Omit<CapacityApproach, 'held' | 'perDestination' | 'firstFailure'>,
  bench: Bench,
  connect: (host: string) => Promise<net.Socket>,
  cap: number,
): Promise<CapacityApproach> {
  const open: net.Socket[] = [];
  const perDestination: Record<string, number> = Object.fromEntries(base.destinations.map((d) => [d, 0]));
  const result: CapacityApproach = { ...base, held: 0, perDestination };
  for (let i = 0; i < cap; i++) {
    const host = base.destinations[i % base.destinations.length] ?? '';
    try {
      const s = await connect(host);
      s.on('error', () => {});
      open.push(s);
      perDestination[host] = (perDestination[host] ?? 0) + 1;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { diagnosis?: { cause: string } };
      result.firstFailure = {
        syscall: err.syscall ?? '',
        code: err.code ?? '',
        message: err.message.split(': ')[0] ?? err.message,
        ...(err instanceof SourceConnectError ? { cause: err.diagnosis.cause } : {}),
      };
      break;
    }
  }
  result.held = open.length;
  // RST, not FIN: a client's close would leave a TIME_WAIT holding its port for a minute.
  for (const s of open) s.resetAndDestroy();
  await new Promise<void>((resolve) => {
    const check = () => (bench.accepted.size === 0 ? resolve() : setImmediate(check));
    check();
  });
  return result;
}

/**
 * In the child: the plan checked, a namespace of its own, the small range, the sources on lo, the
 * listeners, then every approach in turn.
 */
export async function runCapacity(plan: CapacityPlan): Promise<Result<CapacityReport>> {
  const wrong = capacityPlanProblem(plan);
  if (wrong) return invalid(wrong);
  const entered = enterNamespaceOfOwn();
  if (!entered.ok) return entered;
  const up = ip(['link', 'set', 'lo', 'up']);
  if (!up.ok) return up;
  const ranged = setRehearsalRange(plan.pool);
  if (!ranged.ok) return ranged;
  const range = ranged.value;
  const v6 = plan.sources[0]?.includes(':') === true;
  const destinations = v6 ? ['fd00:5afe::100', 'fd00:5afe::101'] : ['127.0.0.100', '127.0.0.101'];
  for (const a of [...plan.sources, ...destinations]) {
    if (!v6 && a.startsWith('127.')) continue;
    const added = ip(
      v6 ? ['addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad'] : ['addr', 'add', `${a}/32`, 'dev', 'lo'],
    );
    if (!added.ok) return added;
  }
  const started = Date.now();
  const { bench, servers } = await listen(destinations, range[0] - 1);
  try {
    const [one = '', two = ''] = destinations;
    const first = plan.sources[0] ?? '';
    const agent = (sources: string[]) => {
      const pool = parseSourcePool({ sources });
      if (!pool.ok) throw new TypeError(pool.reason);
      return (host: string) => connectThroughPool(pool.value, host, bench.port);
    };
    const counts = [...new Set([1, 2, 4, plan.sources.length])].filter((k) => k <= plan.sources.length);
    const approaches: CapacityApproach[] = [];
    const local = (dests: string[]) =>
      fill(
        {
          approach: 'local-address',
          label: dests.length === 1 ? 'localAddress' : 'localAddress, 2 destinations',
          sources: [first],
          destinations: dests,
          expected: plan.pool,
        },
        bench,
        (host) => connectLocal(host, bench.port, first),
        plan.pool * dests.length + 16,
      );
    const viaAgent = (k: number, dests: string[]) => {
      const sources = plan.sources.slice(0, k);
      return fill(
        {
          approach: 'agent',
          label: `agent, ${k} source${k === 1 ? '' : 's'}${dests.length === 1 ? '' : ', 2 destinations'}`,
          sources,
          destinations: dests,
          expected: plan.pool * k * dests.length,
        },
        bench,
        agent(sources),
        plan.pool * k * dests.length + 16,
      );
    };
    approaches.push(await local([one]));
    for (const k of counts) approaches.push(await viaAgent(k, [one]));
    approaches.push(await local([one, two]));
    approaches.push(await viaAgent(1, [one, two]));
    return {
      ok: true,
      value: {
        mode: 'capacity',
        pool: plan.pool,
        range,
        sources: plan.sources,
        destinations: destinations.map((d) => (v6 ? `[${d}]:${bench.port}` : `${d}:${bench.port}`)),
        approaches,
        durationMs: Date.now() - started,
      },
    };
  } finally {
    for (const s of servers) s.close();
  }
}
