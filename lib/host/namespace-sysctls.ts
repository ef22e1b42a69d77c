// The two per-namespace sysctls compared across namespaces, read for the calling thread's network
// namespace (a thread that entered another namespace with setns reads that one's).
import { readFileSync } from 'node:fs';
import type { NamespaceSysctls } from './types.js';
import { parsePortRange } from '../model/pool.js';

/** ip_local_port_range and tcp_tw_reuse of this thread's namespace, labelled `netns`; unreadable ones are left out. */
export function readNamespaceSysctls(
  netns: string,
): NamespaceSysctls & { unreadable: Record<string, string> } {
  const out: NamespaceSysctls & { unreadable: Record<string, string> } = { netns, unreadable: {} };
  try {
    const range = parsePortRange(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
    if (range) out.ipLocalPortRange = range;
    else out.unreadable['net.ipv4.ip_local_port_range'] = 'unparseable';
  } catch (e) {
    out.unreadable['net.ipv4.ip_local_port_range'] = (e as NodeJS.ErrnoException).code ?? String(e);
  }
  try {
    const n = Number.parseInt(readFileSync('/proc/sys/net/ipv4/tcp_tw_reuse', 'utf8'), 10);
    if (Number.isInteger(n)) out.tcpTwReuse = n;
    else out.unreadable['net.ipv4.tcp_tw_reuse'] = 'unparseable';
  } catch (e) {
    out.unreadable['net.ipv4.tcp_tw_reuse'] = (e as NodeJS.ErrnoException).code ?? String(e);
  }
  return out;
}
