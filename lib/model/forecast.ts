// The arithmetic of a pool filling up: from a rate of new connections and the sockets that hold the
// pool now, the level it settles at and the time until it is full. Pure: the readings come in as
// numbers. Little's law is the whole model: a port is held for as long as its connection lasts plus
// the time its TIME_WAIT blocks the port, so at a steady rate r the pool settles at
// r × (that hold time); the open connections already are such a population, so the steady state is
// the sockets that are not in TIME_WAIT now plus r × the TIME_WAIT hold.

/** What the forecast is computed from; every figure was read or measured by the caller. */
export interface ForecastInput {
  /** New connections per second toward the destination (new sockets seen between two readings). */
  ratePerSec: number;
  /** Ports in the pool (range less reserved); NaN when it could not be read. */
  poolSize: number;
  /** Sockets toward the destination now that are not in TIME_WAIT (they stay, or turn into TIME_WAIT). */
  notTimeWait: number;
  /**
   * For each TIME_WAIT socket now: milliseconds until it stops blocking its port. Without
   * TIME_WAIT reuse that is its timer (idiag_expires); with reuse it is the part of the timer left
   * before the reuse delay has passed (0 for most).
   */
  timeWaitBlockingMs: number[];
  /** How long a new connection's TIME_WAIT blocks its port: TCP_TIMEWAIT_LEN, or the reuse delay. */
  holdMs: number;
}

export interface ForecastFigures {
  /** Ports held now (notTimeWait + the TIME_WAIT sockets that still block). */
  blockingNow: number;
  /** Ports held once the rate has run for a whole hold time: notTimeWait + rate × holdMs. */
  steadyState: number;
  /** steadyState / poolSize (may exceed 1: the pool cannot hold the rate). NaN when the pool is unknown. */
  steadyUsage: number;
  /**
   * Seconds until the pool is full at this rate: 0 when it is full now; `null` when it never fills
   * (the steady state fits, or the rate is 0) or cannot be known (the pool was not read).
   */
  exhaustionSeconds: number | null;
}

/**
 * The level the pool settles at and when it fills. Until `holdMs` has passed, ports are taken at
 * `ratePerSec` and freed only as today's TIME_WAIT sockets stop blocking (their timers are known,
 * so the walk over them is exact); after `holdMs` the new connections free ports as fast as they
 * take them and the level is the steady state, so a pool that has not filled by then never does.
 */
export function forecastPool(input: ForecastInput): ForecastFigures {
  const { ratePerSec: rate, poolSize, notTimeWait, holdMs } = input;
  if (!(rate >= 0) || !(holdMs >= 0) || !(notTimeWait >= 0))
    throw new RangeError('forecastPool: rate, holdMs and notTimeWait must be non-negative numbers');
  const freed = input.timeWaitBlockingMs.filter((ms) => ms > 0).sort((a, b) => a - b);
  const blockingNow = notTimeWait + freed.length;
  const steadyState = notTimeWait + (rate * holdMs) / 1000;
  const known = Number.isFinite(poolSize) && poolSize >= 0;
  const steadyUsage = known ? (poolSize > 0 ? steadyState / poolSize : 1) : NaN;
  let exhaustionSeconds: number | null = null;
  if (known && blockingNow >= poolSize) exhaustionSeconds = 0;
  else if (known && rate > 0) exhaustionSeconds = fillTime(rate, poolSize, blockingNow, freed, holdMs);
  return { blockingNow, steadyState, steadyUsage, exhaustionSeconds };
}

/**
 * The first instant (s) at which blockingNow + rate·t − (ports freed by then) reaches poolSize,
 * for t ≤ holdMs; null when it does not. The level rises linearly between two releases and drops
 * by one at each, so the pool fills, if at all, within one of those linear pieces.
 */
function fillTime(rate: number, poolSize: number, blockingNow: number, freed: number[], holdMs: number) {
  const horizon = holdMs / 1000;
  let releasedBefore = 0;
  let from = 0;
  for (let i = 0; i <= freed.length; i++) {
    const to = i < freed.length ? Math.min(freed[i]! / 1000, horizon) : horizon;
    // Level on [from, to): blockingNow - releasedBefore + rate·t.
    const t = (poolSize - blockingNow + releasedBefore) / rate;
    if (t <= to && t >= from) return t;
    if (t < from) return from;
    if (to >= horizon) break;
    releasedBefore++;
    from = to;
  }
  return null;
}
