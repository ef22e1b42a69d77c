// Connection tracking: a full table drops new flows (the kernel logs "nf_conntrack: table full,
// dropping packet"), which clients see as connect timeouts, not as errors. Pure: readings come in.
import type { ConntrackReading } from '../host/types.js';

export type { ConntrackReading };

/** Fill from which the table is called out. */
export const CONNTRACK_WARNING = 0.8;

export function conntrackWarnings(r: ConntrackReading): string[] {
  if (r.loaded !== true) return [];
  const out: string[] = [];
  if (r.count !== undefined && r.max !== undefined && r.max > 0 && r.count / r.max >= CONNTRACK_WARNING) {
    const pct = Math.round((r.count / r.max) * 100);
    out.push(
      `the conntrack table is ${pct}% full (${r.count} of ${r.max}): at 100% new connections are dropped and time out. ` +
        `Raise it in the host's initial namespace: sysctl -w net.netfilter.nf_conntrack_max=${r.max * 2}`,
    );
  }
  const lost = [
    ['insert_failed', r.insertFailed],
    ['drop', r.drop],
    ['early_drop', r.earlyDrop],
  ].filter(([, n]) => typeof n === 'number' && n > 0);
  if (lost.length) {
    out.push(
      `conntrack has lost flows since its counters started (${lost.map(([k, n]) => `${k} ${n}`).join(', ')}, /proc/net/stat/nf_conntrack): ` +
        'drop/early_drop mean a full table; insert_failed, a race between two packets of one new flow (often UDP DNS through NAT)',
    );
  }
  return out;
}
