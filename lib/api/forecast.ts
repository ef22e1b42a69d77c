// forecast(): where the source-port pool toward one destination is heading at the current rate of new
// connections — the level it settles at and the seconds until it is full.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  newConnections,
  readPortUsage,
  readTimeWaitSettings,
  sampleConnections,
  type ConnectionSample,
  type PortUsageQuery,
} from '../host/index.js';
import { forecastPool, type ForecastFigures } from '../model/forecast.js';
import { isLoopback, parseIp } from '../model/ip.js';
import { blockingLeft, TIME_WAIT_LEN_MS, timeWaitHold } from '../model/time-wait.js';
import { isUnsupported } from '../sys/index.js';
import { parseTarget } from '../sys/address.js';
import type { PortUsage, Result } from '../types.js';
import { AbortError, requireSignal } from './abort-error.js';
import { PortUsageError, resolvePortUsageOptions, type PortUsageOptions } from './port-usage.js';

/** The destination to forecast, and how long to watch it. */
export interface ForecastOptions extends PortUsageOptions {
  /** Milliseconds between the two readings the rate is measured over: 50-60000, default 1000. */
  sampleMs?: number;
  /** Aborts the wait between the two readings: forecast() then rejects with an AbortError. */
  signal?: AbortSignal;
}

/** The forecast for one destination, with every figure it was computed from. */
export interface Forecast extends ForecastFigures {
  /** The pool at the second reading (range, reserved, poolSize, inUse by state). */
  usage: PortUsage;
  /** New connections per second: `newConnections` over `sampledMs`. */
  ratePerSec: number;
  /** Sockets present at the second reading and not at the first, by socket cookie. */
  newConnections: number;
  /** Milliseconds between the middles of the two readings. */
  sampledMs: number;
  /** How long a closed connection blocks its port, and the rule (with the sysctls read) that says so. */
  timeWait: {
    /** TCP_TIMEWAIT_LEN (60,000 ms, compiled into the kernel); 0 for UDP, which has no TIME_WAIT. */
    lifetimeMs: number;
    /** What the forecast used: the lifetime, or the tcp_tw_reuse delay; NaN when unknown. */
    holdMs: number;
    /** Whether connect() may take this destination's TIME_WAIT ports (tcp_tw_reuse); absent when unknown. */
    reuse?: boolean;
    /** The rule that gave holdMs, in words, with the sysctl values read. */
    rule: string;
    /** TIME_WAIT sockets toward the destination at the second reading. */
    count: number;
    /** The largest TIME_WAIT timer seen (ms): a fresh one reads just under lifetimeMs. */
    longestTimerMs?: number;
    /** Sysctls that could not be read, with the reason. */
    unreadable: Record<string, string>;
  };
  /** Sockets toward the destination that were not in TIME_WAIT at the second reading. */
  notTimeWait: number;
  /**
   * Why `exhaustionSeconds` is null: 'no-new-connections' (rate 0), 'steady-state-fits' (the pool
   * holds the rate for good), 'pool-not-read', 'hold-unknown'. Absent when it is a number.
   */
  unknown?: 'no-new-connections' | 'steady-state-fits' | 'pool-not-read' | 'hold-unknown';
}

function fail(message: string, code: string): never {
  throw new PortUsageError(message, code);
}

/**
 * Reads the sockets toward `host:port` twice, `sampleMs` apart, and counts the connections made in
 * between by socket identity (the kernel's socket cookie, kept from connect through TIME_WAIT), so
 * sockets that expired meanwhile do not cancel new ones. From that rate, the TIME_WAIT timers of the
 * sockets present and the pool, it computes the steady state (sockets not in TIME_WAIT +
 * rate × hold, where the hold is TCP_TIMEWAIT_LEN, or tcp_tw_reuse's delay where reuse applies) and
 * the seconds until the pool is full at this rate. `exhaustionSeconds` is null, with `unknown`
 * saying why, when the pool never fills at this rate (rate 0 included) or a figure it needs could
 * not be read. Rejects with a PortUsageError like portUsage() (`invalid-address`,
 * `unsupported-platform`, or the errno code of a refused read: the rate needs sock_diag).
 */
export async function forecast(options: ForecastOptions): Promise<Forecast> {
  const sampleMs = options?.sampleMs ?? 1000;
  if (typeof sampleMs !== 'number') throw new TypeError('forecast(): sampleMs must be a number');
  if (!(sampleMs >= 50 && sampleMs <= 60_000))
    fail(`sampleMs must be between 50 and 60000, got ${sampleMs}`, 'invalid-argument');
  requireSignal(options?.signal, 'forecast()');
  const asked = await resolvePortUsageOptions(options, 'forecast');
  const failed = (e: { message: string; code: string; syscall: string; errno: number }): never =>
    fail(e.message, isUnsupported(e as never) ? 'unsupported-platform' : e.code);
  const q = fullestPool(asked);
  const first = sampleConnections(q);
  if (!first.ok) return failed(first.error);
  try {
    await sleep(sampleMs, undefined, options.signal ? { signal: options.signal } : {});
  } catch {
    throw new AbortError(options.signal);
  }
  const second = sampleConnections(q);
  if (!second.ok) return failed(second.error);
  const out = forecastFrom(q, first.value, second.value);
  if (!out.ok) return failed(out.error);
  return out.value;
}

/**
 * The query of the pool that fills first: connections toward the destination from several source
 * addresses are several pools (readPortUsage), and the fullest one's connections, alone, are
 * sampled — as doctor and the gauge do through queryOfUsage.
 */
function fullestPool(q: PortUsageQuery): PortUsageQuery {
  if (q.localAddress !== undefined) return q;
  const usage = readPortUsage(q);
  return usage.ok && usage.value.sources !== undefined && usage.value.localAddress !== undefined
    ? { ...q, localAddress: usage.value.localAddress }
    : q;
}

/**
 * The forecast from two readings of the same destination (taken by the caller, in order): the
 * rate, the pool read now, the TIME_WAIT settings read now. For forecast(), doctor and the
 * Prometheus gauge, which keeps the previous scrape's reading.
 */
export function forecastFrom(
  q: PortUsageQuery,
  earlier: ConnectionSample,
  later: ConnectionSample,
): Result<Forecast> {
  const usage = readPortUsage(q);
  if (!usage.ok) return usage;
  const made = newConnections(earlier, later);
  const sampledMs = later.atMs - earlier.atMs;
  const ratePerSec = (made * 1000) / sampledMs;
  const tcp = (q.protocol ?? 'tcp') === 'tcp';
  const settings = readTimeWaitSettings();
  const dst = parseIp(q.host);
  const src = q.localAddress !== undefined ? parseIp(q.localAddress) : undefined;
  const loopback = (dst !== undefined && isLoopback(dst)) || (src !== undefined && isLoopback(src));
  const hold = tcp
    ? timeWaitHold(settings, loopback)
    : { holdMs: 0, rule: 'UDP has no TIME_WAIT: a port is free once its socket closes' };
  const timers = later.timeWaitMs;
  const notTimeWait = later.notTimeWait;
  const holdKnown = Number.isFinite(hold.holdMs);
  const figures = forecastPool({
    ratePerSec,
    poolSize: usage.value.poolSize,
    notTimeWait,
    // With the hold unknown, the worst case: every TIME_WAIT blocks to the end of its timer.
    timeWaitBlockingMs: timers.map((ms) => blockingLeft(ms, holdKnown ? hold.holdMs : TIME_WAIT_LEN_MS)),
    holdMs: holdKnown ? hold.holdMs : TIME_WAIT_LEN_MS,
  });
  const out: Forecast = {
    ...figures,
    usage: usage.value,
    ratePerSec,
    newConnections: made,
    sampledMs,
    timeWait: {
      lifetimeMs: tcp ? TIME_WAIT_LEN_MS : 0,
      holdMs: hold.holdMs,
      ...('reuse' in hold && hold.reuse !== undefined ? { reuse: hold.reuse } : {}),
      rule: hold.rule,
      count: timers.length,
      ...(timers.length ? { longestTimerMs: timers.reduce((a, b) => Math.max(a, b), 0) } : {}),
      unreadable: settings.unreadable,
    },
    notTimeWait,
  };
  if (!holdKnown) {
    out.steadyState = NaN;
    out.steadyUsage = NaN;
    if (figures.exhaustionSeconds !== 0) {
      out.exhaustionSeconds = null;
      out.unknown = 'hold-unknown';
    }
  } else if (figures.exhaustionSeconds === null) {
    out.unknown = !Number.isFinite(usage.value.poolSize)
      ? 'pool-not-read'
      : made === 0
        ? 'no-new-connections'
        : 'steady-state-fits';
  }
  return { ok: true, value: out };
}

/**
 * The query that reads a PortUsage's destination again (its text parsed back into an address), or
 * undefined for a destination that names no address.
 */
export function queryOfUsage(u: PortUsage): PortUsageQuery | undefined {
  const t = parseTarget(u.destination);
  if (!t.ok || t.value.kind !== 'address') return undefined;
  return {
    host: t.value.address.address,
    port: t.value.port,
    protocol: u.protocol,
    ...(u.localAddress !== undefined ? { localAddress: u.localAddress } : {}),
  };
}

/**
 * Forecasts several destinations over one shared wait: each is read, then all wait `sampleMs`
 * once, then each is read again. A destination that cannot be read gets the reason instead.
 */
export async function forecastDestinations(
  destinations: PortUsageQuery[],
  sampleMs: number,
): Promise<Array<Forecast | string>> {
  const firsts = destinations.map((q) => sampleConnections(q));
  if (firsts.some((f) => f.ok)) await sleep(sampleMs);
  return destinations.map((q, i) => {
    const first = firsts[i]!;
    if (!first.ok) return first.error.message;
    const second = sampleConnections(q);
    if (!second.ok) return second.error.message;
    const f = forecastFrom(q, first.value, second.value);
    return f.ok ? f.value : f.error.message;
  });
}
