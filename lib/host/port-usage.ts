// How full the source-port pool toward one destination is: the evidence behind
// `ephemeral-ports-exhausted`, and the busiest destinations for `doctor`.
import type { PortUsage, Protocol, Result } from '../types.js';
import { invalidInput } from './failure.js';
import { bareAddress, countSockets, listSockets } from './sockets.js';
import { readPortRange, readReservedPorts, reservedInRange } from './sysctls.js';

export interface PortUsageQuery {
  /** The destination's IP literal ('10.0.0.5', '[fd00::1]'); names are resolved by the caller. */
  host: string;
  port: number;
  /** The source address the connections use, when they bind one. */
  localAddress?: string;
  protocol?: Protocol;
}

function destination(address: string, family: 4 | 6, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function pool(): { range: [number, number]; reserved: number; poolSize: number } {
  const range = readPortRange();
  const reserved = reservedInRange(readReservedPorts(), range);
  const size = range[1] >= range[0] ? range[1] - range[0] + 1 : 0;
  return { range, reserved, poolSize: Math.max(0, size - reserved) };
}

function usageOf(inUse: number, poolSize: number): number {
  if (poolSize === 0) return inUse > 0 ? 1 : 0;
  return inUse / poolSize;
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
  const counted = countSockets({
    protocol,
    excludeStates: protocol === 'tcp' ? ['LISTEN'] : [],
    remote: { address: dst.address, port: q.port },
    ...(local ? { local: { address: local } } : {}),
  });
  if (!counted.ok) return counted;
  const p = pool();
  const usage: PortUsage = {
    protocol,
    destination: destination(dst.address, dst.family, q.port),
    range: p.range,
    reserved: p.reserved,
    poolSize: p.poolSize,
    inUse: counted.value.total,
    byState: counted.value.byState,
    usage: usageOf(counted.value.total, p.poolSize),
  };
  if (local !== undefined) usage.localAddress = local;
  return { ok: true, value: usage };
}

/** How many sockets topDestinations reads at most: enough for any triage, bounded in cost. */
const TOP_SCAN_LIMIT = 50_000;

/**
 * The busiest remote address:port pairs among outbound TCP sockets, most sockets first, each as a
 * PortUsage against this namespace's pool. Sockets whose local port is a listening port are the
 * server side of inbound connections: their peer's port is the *client's* source port, not a
 * destination, so they are left out. Two sock_diag dumps (listeners, then the rest), grouped here;
 * the scan stops at TOP_SCAN_LIMIT sockets, which is enough to rank the heavy hitters.
 */
export function topDestinations(limit = 5): Result<PortUsage[]> {
  if (!Number.isInteger(limit) || limit < 0) throw new TypeError('limit must be a non-negative integer');
  const listeners = listSockets({ protocol: 'tcp', states: ['LISTEN'] }, TOP_SCAN_LIMIT);
  if (!listeners.ok) return listeners;
  const listeningPorts = new Set(listeners.value.sockets.map((s) => s.localPort));
  const listed = listSockets({ protocol: 'tcp', excludeStates: ['LISTEN'] }, TOP_SCAN_LIMIT);
  if (!listed.ok) return listed;
  const groups = new Map<
    string,
    { address: string; family: 4 | 6; port: number; byState: Record<string, number>; n: number }
  >();
  for (const s of listed.value.sockets) {
    if (listeningPorts.has(s.localPort)) continue;
    // A v4-mapped peer is an IPv4 destination: group it with the AF_INET sockets toward it.
    const address = s.remote.startsWith('::ffff:') && s.remote.includes('.') ? s.remote.slice(7) : s.remote;
    const family = address.includes(':') ? 6 : 4;
    const key = `${address} ${s.remotePort}`;
    let g = groups.get(key);
    if (!g) {
      g = { address, family, port: s.remotePort, byState: {}, n: 0 };
      groups.set(key, g);
    }
    g.n++;
    g.byState[s.state] = (g.byState[s.state] ?? 0) + 1;
  }
  const p = pool();
  const top = [...groups.values()].sort((a, b) => b.n - a.n).slice(0, limit);
  return {
    ok: true,
    value: top.map((g) => ({
      protocol: 'tcp',
      destination: destination(g.address, g.family, g.port),
      range: p.range,
      reserved: p.reserved,
      poolSize: p.poolSize,
      inUse: g.n,
      byState: g.byState,
      usage: usageOf(g.n, p.poolSize),
    })),
  };
}
