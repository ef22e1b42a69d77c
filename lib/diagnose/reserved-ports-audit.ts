// Listening ports inside the ephemeral range that are not reserved: connect() may hand one of them to
// an outbound connection while the service is down (a restart, a deploy), and the service then fails
// to start with EADDRINUSE. The fix is net.ipv4.ip_local_reserved_ports, merged with what is
// reserved already. Pure: the range, the reserved list and the listeners come in as read.
import { formatRanges, type PortRange } from '../model/pool.js';
import { sysctlCommands } from './remedies.js';

export interface ListeningPort {
  protocol: 'tcp' | 'udp';
  port: number;
  /** The address it listens on, as read. */
  address: string;
}

export interface ReservedPortsAudit {
  /** Listening ports inside ip_local_port_range and not in ip_local_reserved_ports, each port once. */
  exposed: ListeningPort[];
  /** The reserved list with those ports added, as the sysctl takes it ('8080,40000-40009'). */
  merged: string;
  /** `sysctl -w …` and the /etc/sysctl.d/ line that keeps it, or [] when nothing is exposed. */
  commands: string[];
}

/** Adds ports to ranges and coalesces overlapping and adjacent ranges, sorted. */
export function mergePortRanges(ranges: ReadonlyArray<Readonly<PortRange>>, ports: number[]): PortRange[] {
  const all: PortRange[] = [
    ...ranges.map(([lo, hi]) => [lo, hi] as PortRange),
    ...ports.map((p) => [p, p] as PortRange),
  ];
  all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: PortRange[] = [];
  for (const [lo, hi] of all) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function auditReservedPorts(
  range: PortRange,
  reserved: ReadonlyArray<Readonly<PortRange>>,
  listeners: ListeningPort[],
): ReservedPortsAudit {
  const isReserved = (p: number) => reserved.some(([lo, hi]) => p >= lo && p <= hi);
  const seen = new Set<string>();
  const exposed: ListeningPort[] = [];
  for (const l of [...listeners].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol))) {
    if (l.port < range[0] || l.port > range[1] || isReserved(l.port)) continue;
    const key = `${l.protocol} ${l.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    exposed.push(l);
  }
  const merged = formatRanges(mergePortRanges(reserved, [...new Set(exposed.map((l) => l.port))]));
  return {
    exposed,
    merged,
    commands: exposed.length ? sysctlCommands('net.ipv4.ip_local_reserved_ports', merged) : [],
  };
}

/** The doctor warning for an audit with exposed ports, or undefined. */
export function reservedPortsWarning(a: ReservedPortsAudit, range: PortRange): string | undefined {
  if (a.exposed.length === 0) return undefined;
  const list = a.exposed.map((l) => `${l.protocol} ${l.port}`).join(', ');
  const one = a.exposed.length === 1;
  return (
    `listening port${one ? '' : 's'} ${list} ${one ? 'is' : 'are'} inside the ephemeral range ${range[0]}-${range[1]} and not reserved: ` +
    `an outbound connection can take ${one ? 'it' : 'one'} while the service restarts. Reserve: ${a.commands.join(' && ')}`
  );
}
