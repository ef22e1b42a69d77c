// The local port pool as the diagnosis reads it: from the sysctls of the snapshot, or from the
// PortUsage counted toward the destination, and the sentences that state its figures. Arithmetic and
// the percent rule are lib/model's; this file only picks the figures and words them.
import type { PortUsage } from '../types.js';
import type { Context } from './context.js';
import {
  formatPercent,
  formatRanges,
  poolOf,
  rangeSize,
  usageRatio,
  type Pool,
  type PortRange,
} from '../model/index.js';
import { count, describeStates, formatEndpoint } from './text.js';

/**
 * Usage of the source-port pool at which a connect EADDRNOTAVAIL/EAGAIN is called exhaustion. The
 * kernel fails only when every port is taken, but the pool is counted after the failure: connections
 * finish and TIME_WAIT expires (60 s) in between, so a pool that was full reads a little below 100%.
 * Under 90% the figures do not support exhaustion, and the diagnosis says so instead of guessing.
 */
export const EXHAUSTION_THRESHOLD = 0.9;

/**
 * The pool of the snapshot's port range (else `fallbackRange`). When neither was read, a pool whose
 * figures are NaN and whose `notRead` says why: no default range is assumed.
 */
export function localPool(ctx: Context, fallbackRange?: PortRange): Pool {
  const known = (r?: PortRange) => (r && Number.isFinite(r[0]) && Number.isFinite(r[1]) ? r : undefined);
  const range = known(ctx.sysctls?.ipLocalPortRange) ?? known(fallbackRange);
  if (range === undefined) {
    const why = ctx.sysctls?.unreadable['net.ipv4.ip_local_port_range'] ?? 'not read';
    return {
      range: [NaN, NaN],
      rangeSize: NaN,
      reserved: NaN,
      reservedRanges: [],
      poolSize: NaN,
      notRead: `the local port range (net.ipv4.ip_local_port_range) could not be read (${why}), so the pool's size is not known`,
    };
  }
  return poolOf(range, ctx.sysctls?.ipLocalReservedPorts ?? []);
}

/** `notRead` as a sentence of its own. */
export function notReadSentence(pool: Pool): string {
  const text = pool.notRead ?? '';
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** The pool toward the destination: the PortUsage's own figures where it was counted. */
export function sourcePool(ctx: Context): Pool {
  const usage = ctx.host.portUsage;
  const pool = localPool(ctx, usage?.range);
  if (usage === undefined || pool.notRead !== undefined) return pool;
  return {
    ...pool,
    range: usage.range,
    rangeSize: rangeSize(usage.range),
    reserved: usage.reserved,
    poolSize: usage.poolSize,
  };
}

/** inUse / poolSize; NaN when the pool's size could not be read. */
export function usageOf(usage: PortUsage): number {
  if (usage.notRead !== undefined) return NaN;
  return usageRatio(usage.inUse, usage.poolSize);
}

/** Whether the counted pool supports calling the failure exhaustion (or there is no count at all). */
export function poolLooksExhausted(ctx: Context): boolean {
  const usage = ctx.host.portUsage;
  // An unreadable pool cannot contradict the error code, as no count at all cannot.
  return usage === undefined || usage.notRead !== undefined || usageOf(usage) >= EXHAUSTION_THRESHOLD;
}

export function destinationText(ctx: Context): string {
  if (ctx.host.portUsage !== undefined) return ctx.host.portUsage.destination;
  return ctx.remote === undefined ? 'the destination' : formatEndpoint(ctx.remote.host, ctx.remote.port);
}

/** 'The pool is net.ipv4.ip_local_port_range 32768-60999 (28,232 ports) with no reserved ports = 28,232 ports.' */
export function poolLine(pool: Pool): string {
  if (pool.notRead !== undefined) return notReadSentence(pool);
  const reserved =
    pool.reserved > 0
      ? `minus ${count(pool.reserved)} reserved in net.ipv4.ip_local_reserved_ports` +
        (pool.reservedRanges.length > 0 ? ` (${formatRanges(pool.reservedRanges)})` : '')
      : 'with no reserved ports';
  return (
    `The pool is net.ipv4.ip_local_port_range ${pool.range[0]}-${pool.range[1]} (${count(pool.rangeSize)} ports) ` +
    `${reserved} = ${count(pool.poolSize)} ports.`
  );
}

export function usageLine(usage: PortUsage): string {
  const from = usage.localAddress !== undefined ? ` from ${usage.localAddress}` : '';
  const states = describeStates(usage.byState);
  const several =
    usage.sources !== undefined && usage.sources.length > 1
      ? ` Connections toward it leave from ${usage.sources.length} source addresses, each with a pool of its own ` +
        `(${usage.sources.map((s) => `${s.address}: ${count(s.inUse)}`).join(', ')}); these figures are the fullest one's.`
      : '';
  return (
    `${count(usage.inUse)} sockets hold a port toward ${usage.destination}${from} ` +
    (usage.notRead !== undefined
      ? '(share of the pool unknown)'
      : `(${formatPercent(usageOf(usage))} of the pool)`) +
    `${states !== '' ? `: ${states}` : ''}.${several}`
  );
}

/** The figures, for an `unknown` diagnosis of a connect EADDRNOTAVAIL whose pool is not near full. */
export function poolNotFullReasons(ctx: Context): string[] {
  const usage = ctx.host.portUsage;
  if (usage === undefined || usage.notRead !== undefined) return [];
  return [
    `${ctx.code} at connect usually means no free source port toward ${usage.destination}, but only ` +
      `${count(usage.inUse)} of ${count(usage.poolSize)} (${formatPercent(usageOf(usage))}) are in use now; ` +
      `safebind calls it exhaustion from ${formatPercent(EXHAUSTION_THRESHOLD)}.`,
    poolLine(sourcePool(ctx)),
    usageLine(usage),
    'The sockets may have closed since the failure (when the peer closes first, no TIME_WAIT is left on this side), or the failure has another cause.',
  ];
}
