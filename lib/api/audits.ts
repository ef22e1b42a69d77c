// The host audits of doctor and the Prometheus collector: listening ports inside the ephemeral range
// that are not reserved, and connection tracking's fill and losses. Reads this namespace only; the
// comparison of sysctls across namespaces takes readings from the caller (doctor reads the named
// namespaces, the exporter every namespace).
import { listSockets, readConntrack, readNetSysctls } from '../host/index.js';
import type { ConntrackReading } from '../host/types.js';
import { conntrackWarnings } from '../diagnose/conntrack-audit.js';
import {
  auditReservedPorts,
  reservedPortsWarning,
  type ListeningPort,
  type ReservedPortsAudit,
} from '../diagnose/reserved-ports-audit.js';
import type { PortRange } from '../model/pool.js';

export interface HostAudits {
  /** Absent when the range, the reserved list or the listeners could not be read (`notRead` says why). */
  reservedPorts?: ReservedPortsAudit & { range: PortRange; reserved: string };
  conntrack: ConntrackReading;
  /** Warnings with their fix, most severe first. */
  warnings: string[];
  notRead: Record<string, string>;
}

/** The TCP listeners of this namespace, one per (port, address). */
export function readListeningPorts(): { ok: true; value: ListeningPort[] } | { ok: false; reason: string } {
  const listed = listSockets({ protocol: 'tcp', states: ['LISTEN'] }, 1_000_000);
  if (!listed.ok) return { ok: false, reason: listed.error.message };
  return {
    ok: true,
    value: listed.value.sockets.map((s) => ({ protocol: 'tcp', port: s.localPort, address: s.local })),
  };
}

export function auditHost(): HostAudits {
  const notRead: Record<string, string> = {};
  const warnings: string[] = [];
  const sysctls = readNetSysctls();
  const range = sysctls.ipLocalPortRange;
  const reservedUnread = sysctls.unreadable['net.ipv4.ip_local_reserved_ports'];
  const listeners = readListeningPorts();
  let reservedPorts: HostAudits['reservedPorts'];
  if (!range) notRead.reservedPorts = 'net.ipv4.ip_local_port_range could not be read';
  else if (reservedUnread !== undefined)
    notRead.reservedPorts = `net.ipv4.ip_local_reserved_ports could not be read: ${reservedUnread}`;
  else if (!listeners.ok) notRead.reservedPorts = `the listeners could not be read: ${listeners.reason}`;
  else {
    const audit = auditReservedPorts(range, sysctls.ipLocalReservedPorts, listeners.value);
    reservedPorts = { ...audit, range, reserved: sysctls.raw['net.ipv4.ip_local_reserved_ports'] ?? '' };
    const w = reservedPortsWarning(audit, range);
    if (w) warnings.push(w);
  }
  const conntrack = readConntrack();
  warnings.push(...conntrackWarnings(conntrack));
  return { ...(reservedPorts ? { reservedPorts } : {}), conntrack, warnings, notRead };
}
