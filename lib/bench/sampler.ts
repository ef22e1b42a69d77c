// The 250 ms samples: connects per second from the loop's counters, and TIME_WAIT, ESTABLISHED and
// pool usage toward the target from the socket table (sock_diag, through lib/host's reader).
import { readPortUsage } from '../host/port-usage.js';
import type { DriverProgress } from './driver.js';
import { performance } from 'node:perf_hooks';
import type { ChurnSample } from './types.js';

export interface PoolView {
  inUse: number;
  poolSize: number;
  timeWait: number;
  established: number;
  range?: [number, number];
}

/**
 * The range a socket with IP_LOCAL_PORT_RANGE draws from: each bound of its own range counts only
 * when it lies inside the namespace's ip_local_port_range, else the sysctl's bound stands (that is
 * how the kernel clamps it; measured: 40000-40009 under a 32768-33767 sysctl gives 1000 ports).
 */
export function effectiveRange(socket: [number, number], sysctl: [number, number]): [number, number] {
  const inside = (p: number) => p >= sysctl[0] && p <= sysctl[1];
  return [inside(socket[0]) ? socket[0] : sysctl[0], inside(socket[1]) ? socket[1] : sysctl[1]];
}

/**
 * Reads the pool toward target, once per source address when there are several (each is a pool of
 * its own). With IP_LOCAL_PORT_RANGE the pool is that range, not the sysctl's.
 */
export function readPool(
  target: { address: string; port: number },
  sources: string[],
  localPortRange?: [number, number],
): PoolView | undefined {
  const view: PoolView = { inUse: 0, poolSize: 0, timeWait: 0, established: 0 };
  for (const localAddress of sources.length > 0 ? sources : [undefined]) {
    const usage = readPortUsage({
      host: target.address,
      port: target.port,
      protocol: 'tcp',
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
    if (!usage.ok) return undefined;
    const u = usage.value;
    view.inUse += u.inUse;
    view.timeWait += u.byState.TIME_WAIT ?? 0;
    view.established += u.byState.ESTABLISHED ?? 0;
    const range = localPortRange ? effectiveRange(localPortRange, u.range) : u.range;
    view.poolSize += localPortRange ? range[1] - range[0] + 1 : u.poolSize;
    view.range = range;
  }
  return view;
}

export class Sampler {
  readonly samples: ChurnSample[] = [];
  private lastT = 0;
  private lastConnects = 0;
  private lastPool: PoolView | undefined;
  private nextTableRead = 0;

  /**
   * `tableBudget` is the share of one core the table reads may take: 5 % when the loop runs on a
   * thread of its own (native), less when the reads block the very thread that runs the loop (node).
   */
  constructor(
    private readonly target: { address: string; port: number },
    private readonly sources: string[],
    private readonly localPortRange: [number, number] | undefined,
    private readonly startedAt: number,
    private readonly tableBudget = 0.05,
  ) {}

  take(progress: DriverProgress, now: number, final = false): ChurnSample {
    const tMs = now - this.startedAt;
    const dt = (tMs - this.lastT) / 1000;
    // Reading the table walks every socket of the namespace (~40 ms at 35,000 TIME_WAIT): keep it
    // within the budget, and carry the last figures between reads, so the sampling does not
    // become the benchmark. The connect counters are free and stay exact every period.
    let pool = this.lastPool;
    if (now >= this.nextTableRead || final) {
      const t0 = performance.now();
      pool = readPool(this.target, this.sources, this.localPortRange);
      const cost = performance.now() - t0;
      this.nextTableRead = performance.now() + cost * (1 / this.tableBudget - 1);
      this.lastPool = pool;
    }
    const sample: ChurnSample = {
      tMs: Math.round(tMs),
      connects: progress.connects,
      ratePerSec: dt > 0 ? Math.round((progress.connects - this.lastConnects) / dt) : 0,
      errors: progress.errors,
      timeWait: pool?.timeWait ?? 0,
      established: pool?.established ?? 0,
      poolInUse: pool?.inUse ?? 0,
      poolSize: pool?.poolSize ?? 0,
      poolUsage: pool && pool.poolSize > 0 ? Math.round((pool.inUse / pool.poolSize) * 1e4) / 1e4 : 0,
    };
    this.lastT = tMs;
    this.lastConnects = progress.connects;
    this.samples.push(sample);
    return sample;
  }
}
