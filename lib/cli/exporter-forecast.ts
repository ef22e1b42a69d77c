// The exporter's `safebind_port_pool_exhaustion_seconds`: from two successive readings of a
// namespace, per destination, the rate of new connections, then the same pure model as
// forecast() and safebind/prometheus (forecastPool, timeWaitHold, blockingLeft).
//
// The rate without socket cookies (the walk keeps no per-socket identity across scrapes): a
// connection made since the previous walk is either still open, or closed into a TIME_WAIT whose
// timer started since then (timer > TCP_TIMEWAIT_LEN − the time between the walks, counted by the
// walk itself). So new = fresh TIME_WAIT + (not-TIME_WAIT now − not-TIME_WAIT then): an open
// connection that closed into TIME_WAIT adds one to the first term and takes one from the second.
// Biases (docs/kernel-facts.md, "exporter forecast"): a connection that ends without a TIME_WAIT of
// ours (the peer closed first, a reset) takes one off; past 60 s between walks the TIME_WAIT term
// covers only the last 60 s, so its rate is taken over 60 s.
import type { NetnsReading } from '../host/netns.js';
import { forecastPool } from '../model/forecast.js';
import { blockingLeft, TIME_WAIT_LEN_MS, timeWaitHold } from '../model/time-wait.js';

const TIME_WAIT_BUCKETS = 60;

/** What the next scrape of a namespace compares with. */
export interface ForecastMemory {
  walkMs: number;
  /** Not-TIME_WAIT sockets per destination label. */
  notTimeWait: Map<string, number>;
}

/** The TIME_WAIT timers of a destination as forecastPool takes them grouped: each bucket at its middle. */
function timersOf(buckets: Uint32Array, from: number, holdMs: number): { ms: number[]; counts: number[] } {
  const out = { ms: [] as number[], counts: [] as number[] };
  for (let k = 0; k < TIME_WAIT_BUCKETS; k++) {
    const n = buckets[from + k]!;
    if (n === 0) continue;
    out.ms.push(blockingLeft(k * 1000 + 500, holdMs));
    out.counts.push(n);
  }
  return out;
}

/**
 * Seconds until each destination's pool fills at the rate since `before`, by destination label:
 * a number, +Inf when it does not fill at that rate (no new connections, or the steady state fits),
 * and no entry when it is unknown (no previous reading of the destination, the pool or the TIME_WAIT
 * hold not read) — as lib/prometheus-forecast.ts decides.
 */
export function exhaustionSeconds(
  before: ForecastMemory | undefined,
  now: NetnsReading,
): Map<string, number> {
  const out = new Map<string, number>();
  const p = now.pools;
  if (!before || !now.sockets) return out;
  const elapsedMs = now.walkMs - before.walkMs;
  if (!(elapsedMs > 0)) return out;
  // One namespace, one set of sysctls: the hold differs only between loopback and other destinations.
  const holds = [false, true].map((loopback) => timeWaitHold(now.timeWait, loopback).holdMs);
  for (let i = 0; i < p.destinations.length; i++) {
    const label = p.destinations[i]!;
    const then = before.notTimeWait.get(label);
    if (then === undefined) continue;
    const hold = holds[p.loopback[i] ? 1 : 0]!;
    const holdKnown = Number.isFinite(hold);
    const holdMs = holdKnown ? hold : TIME_WAIT_LEN_MS;
    const opened = p.notTimeWait[i]! - then;
    const rate = Math.max(
      0,
      (p.freshTimeWait[i]! * 1000) / Math.min(elapsedMs, TIME_WAIT_LEN_MS) + (opened * 1000) / elapsedMs,
    );
    // No new connection and room for every socket held now: it cannot fill (forecastPool's answer
    // too, without building its input) — the common case of an exporter's thousands of pools.
    if (rate === 0 && holdKnown && p.inUse[i]! < p.poolSize) {
      out.set(label, Infinity);
      continue;
    }
    const f = forecastPool({
      ratePerSec: rate,
      poolSize: p.poolSize,
      notTimeWait: p.notTimeWait[i]!,
      // With the hold unknown, the worst case: every TIME_WAIT blocks to the end of its timer.
      timeWaitBlockingMs: [],
      timeWaitBlockingGroups: timersOf(p.timers[i]!, p.timersAt[i]!, holdMs),
      holdMs,
    });
    if (f.exhaustionSeconds === 0) out.set(label, 0);
    else if (!holdKnown || !Number.isFinite(p.poolSize)) continue;
    else out.set(label, f.exhaustionSeconds ?? Infinity);
  }
  return out;
}

/** What to keep of this reading for the next scrape's comparison. */
export function memoryOf(now: NetnsReading): ForecastMemory | undefined {
  if (!now.sockets) return undefined;
  const p = now.pools;
  const notTimeWait = new Map<string, number>();
  for (let i = 0; i < p.destinations.length; i++) notTimeWait.set(p.destinations[i]!, p.notTimeWait[i]!);
  return { walkMs: now.walkMs, notTimeWait };
}
