// How full the source-port pool toward one destination is: the evidence behind
// `ephemeral-ports-exhausted`, and the busiest destinations for `doctor`.
import type { PortUsage, Protocol, Result } from '../types.js';
import type { SocketQuery } from './types.js';
import { invalidInput } from './failure.js';
import { bareAddress, NO_PEER_STATES } from './socket-query.js';
import { countSockets, listSockets, tallyByRemote } from './reader.js';
import { readPortRange, readReservedPorts, reservedInRange } from './sysctls.js';

export interface PortUsageQuery {
  /** The destination's IP literal ('10.0.0.5', '[fd00::1]'); names are resolved by the caller. */
  host: string;
  port: number;
  /** The source address the connections use, when they bind one. */
  localAddress?: string;
  protocol?: Protocol;
}

export function destination(address: string, family: 4 | 6, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export type Pool = { range: [number, number]; reserved: number; poolSize: number; notRead?: string };

/** The pool of this namespace, or NaN figures and the reason when its sysctls cannot be read. */
function pool(): Pool {
  const into = { raw: {}, unreadable: {} as Record<string, string> };
  const range = readPortRange(into);
  const reserved = readReservedPorts(into);
  if (!range || !reserved) {
    const why = Object.entries(into.unreadable)
      .map(([name, reason]) => `${name}: ${reason}`)
      .join(', ');
    return { range: [NaN, NaN], reserved: NaN, poolSize: NaN, notRead: why };
  }
  const inRange = reservedInRange(reserved, range);
  const size = range[1] >= range[0] ? range[1] - range[0] + 1 : 0;
  return { range, reserved: inRange, poolSize: Math.max(0, size - inRange) };
}

/** In use over the pool: NaN when the pool was not read; an empty pool is full once anything is in use. */
export function usageOf(inUse: number, p: Pool): number {
  if (p.notRead !== undefined) return NaN;
  if (p.poolSize === 0) return inUse > 0 ? 1 : 0;
  return inUse / p.poolSize;
}

/** A PortUsage from a count and the pool; the pool's reason when it could not be read. */
export function portUsageOf(
  protocol: Protocol,
  dest: string,
  p: Pool,
  inUse: number,
  byState: Record<string, number>,
): PortUsage {
  const usage: PortUsage = {
    protocol,
    destination: dest,
    range: p.range,
    reserved: p.reserved,
    poolSize: p.poolSize,
    inUse,
    byState,
    usage: usageOf(inUse, p),
  };
  if (p.notRead !== undefined) usage.notRead = p.notRead;
  return usage;
}

/**
 * The source-port pool toward host:port (from localAddress when given): the pool is
 * ip_local_port_range less the reserved ports inside it, and every socket toward that exact
 * destination, in any state but LISTEN (TIME_WAIT included), holds one of its ports. An IPv4
 * destination also counts v4-mapped IPv6 sockets. Sockets bound explicitly outside the range are
 * counted too, as `ss dst` counts them.
 */
export function readPortUsage(q: PortUsageQuery): Result<PortUsage> {
  if (typeof q !== 'object' || q === null) throw new TypeError('readPortUsage({ host, port, … })');
  if (typeof q.host !== 'string') throw new TypeError('host must be a string');
  if (typeof q.port !== 'number') throw new TypeError('port must be a number');
  const protocol = q.protocol ?? 'tcp';
  const dst = bareAddress(q.host);
  if (!dst) return invalidInput(`address ${q.host}`);
  if (!Number.isInteger(q.port) || q.port < 1 || q.port > 65535) return invalidInput(`port ${q.port}`);
  let local: string | undefined;
  if (q.localAddress !== undefined) {
    const bare = bareAddress(q.localAddress);
    if (!bare) return invalidInput(`address ${q.localAddress}`);
    local = bare.address;
  }
  const query = {
    protocol,
    excludeStates: protocol === 'tcp' ? NO_PEER_STATES : [],
    remote: { address: dst.address, port: q.port },
    ...(local ? { local: { address: local } } : {}),
  };
  const dest = destination(dst.address, dst.family, q.port);
  // Without a source given, grouped by source; when more sockets matched than are listed, counted
  // below: the sum of every source, an upper bound of the fullest one.
  const bySource = local === undefined ? countBySource(query) : undefined;
  if (bySource !== undefined) {
    if (!bySource.ok) return bySource;
    return { ok: true, value: fullestSource(protocol, dest, pool(), bySource.value) };
  }
  const counted = countSockets(query);
  if (!counted.ok) return counted;
  const usage = portUsageOf(protocol, dest, pool(), counted.value.total, counted.value.byState);
  if (local !== undefined) usage.localAddress = local;
  return { ok: true, value: usage };
}

/** Sockets toward a destination listed at most: a pool is at most 65,536 ports per source address. */
const LISTED_AT_MOST = 1_000_000;

interface SourceCount {
  address: string;
  total: number;
  byState: Record<string, number>;
}

/**
 * The sockets of `query` grouped by local address (a v4-mapped one as its IPv4 address: the same
 * ports), in one walk; undefined when more matched than are listed.
 */
function countBySource(query: SocketQuery): Result<SourceCount[]> | undefined {
  const listed = listSockets(query, LISTED_AT_MOST);
  if (!listed.ok) return listed;
  if (listed.value.truncated) return undefined;
  const groups = new Map<string, SourceCount>();
  for (const s of listed.value.sockets) {
    const address = s.local.startsWith('::ffff:') && s.local.includes('.') ? s.local.slice(7) : s.local;
    let g = groups.get(address);
    if (g === undefined) groups.set(address, (g = { address, total: 0, byState: {} }));
    g.total++;
    g.byState[s.state] = (g.byState[s.state] ?? 0) + 1;
  }
  return { ok: true, value: [...groups.values()] };
}

/**
 * A TCP pool is per (source address, destination): connect() picks the source from the route, then
 * a port free for that 4-tuple, so sockets from another source take none of its ports. The usage is
 * the fullest source's, named in `localAddress`, with every source in `sources` when there are
 * several. (A UDP socket's port is its own whatever the destination; its sockets are summed.)
 */
function fullestSource(protocol: Protocol, dest: string, p: Pool, counts: SourceCount[]): PortUsage {
  if (protocol === 'udp' || counts.length === 0) {
    const byState: Record<string, number> = {};
    let total = 0;
    for (const c of counts) {
      total += c.total;
      for (const [state, n] of Object.entries(c.byState)) byState[state] = (byState[state] ?? 0) + n;
    }
    return portUsageOf(protocol, dest, p, total, byState);
  }
  const sorted = [...counts].sort((a, b) => b.total - a.total || a.address.localeCompare(b.address));
  const fullest = sorted[0]!;
  const usage = portUsageOf(protocol, dest, p, fullest.total, fullest.byState);
  if (sorted.length > 1) {
    usage.localAddress = fullest.address;
    usage.sources = sorted.map((c) => ({ address: c.address, inUse: c.total }));
  }
  return usage;
}

/**
 * The busiest remote address:port pairs among outbound TCP sockets, fullest pool first, each as a
 * PortUsage of its fullest source address's pool (one pool per source, as readPortUsage). Sockets
 * whose local port is a listening port are the server side of inbound connections: their peer's port is the *client's* source port, not a
 * destination, so they are left out. Every socket of the table is counted, whatever its size
 * (tallyByRemote walks /proc/net line by line above a few thousand), so a pool's figure is never
 * drawn from a sample.
 */
export function topDestinations(limit = 5): Result<PortUsage[]> {
  if (!Number.isInteger(limit) || limit < 0) throw new TypeError('limit must be a non-negative integer');
  // Listeners are few (one per port and address); the limit only guards against a runaway table.
  const listeners = listSockets({ protocol: 'tcp', states: ['LISTEN'] }, 1_000_000);
  if (!listeners.ok) return listeners;
  const listeningPorts = new Set(listeners.value.sockets.map((s) => s.localPort));
  const tally = tallyByRemote({ protocol: 'tcp', excludeStates: NO_PEER_STATES }, (port) =>
    listeningPorts.has(port),
  );
  if (!tally.ok) return tally;
  const p = pool();
  // Each destination once, by its fullest source's pool (fullestSource).
  const byDestination = new Map<string, { remote: string; port: number; counts: SourceCount[] }>();
  for (const g of tally.value.groups) {
    const dest = destination(g.remote, g.family, g.remotePort);
    const count = { address: g.local, total: g.total, byState: g.byState };
    const known = byDestination.get(dest);
    if (known) known.counts.push(count);
    else byDestination.set(dest, { remote: g.remote, port: g.remotePort, counts: [count] });
  }
  const usages = [...byDestination].map(([dest, d]) => ({
    d,
    usage: fullestSource('tcp', dest, p, d.counts),
  }));
  usages.sort(
    (a, b) => b.usage.inUse - a.usage.inUse || a.d.remote.localeCompare(b.d.remote) || a.d.port - b.d.port,
  );
  return { ok: true, value: usages.slice(0, limit).map((u) => u.usage) };
}
