// Connection tracking as this namespace's /proc shows it: the table's fill and the per-CPU counters
// of /proc/net/stat/nf_conntrack (hex, one row per CPU, summed here). When nf_conntrack is not
// loaded the files do not exist, and that is what is said; nothing is ever loaded or guessed.
import { existsSync, readFileSync } from 'node:fs';
import type { ConntrackReading } from './types.js';

const SYS = '/proc/sys/net/netfilter/';
const STAT = '/proc/net/stat/nf_conntrack';

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** Sums each named column of a /proc/net/stat table (header line, then hex rows per CPU). */
export function sumStatColumns(text: string, names: string[]): Record<string, number> {
  const [header = '', ...rows] = text.split('\n').filter((l) => l.trim() !== '');
  const columns = header.trim().split(/\s+/);
  const out: Record<string, number> = {};
  for (const name of names) {
    const i = columns.indexOf(name);
    if (i < 0) continue;
    let sum = 0;
    for (const row of rows) sum += Number.parseInt(row.trim().split(/\s+/)[i] ?? '0', 16);
    out[name] = sum;
  }
  return out;
}

export function readConntrack(): ConntrackReading {
  let count: number;
  try {
    count = Number.parseInt(readFileSync(SYS + 'nf_conntrack_count', 'utf8'), 10);
  } catch (e) {
    // Absent while /proc/sys/net/ipv4 is there: the module is not loaded. Both absent: /proc/sys
    // is hidden from us, and nothing can be said.
    if (code(e) === 'ENOENT' && existsSync('/proc/sys/net/ipv4/ip_local_port_range'))
      return { loaded: false, why: `${SYS}nf_conntrack_count does not exist: nf_conntrack is not loaded` };
    if (code(e) === 'ENOENT') return { loaded: 'unknown', why: '/proc/sys/net could not be read' };
    return { loaded: true, unreadable: { 'net.netfilter.nf_conntrack_count': code(e) } };
  }
  const r: ConntrackReading = { loaded: true, count, unreadable: {} };
  try {
    r.max = Number.parseInt(readFileSync(SYS + 'nf_conntrack_max', 'utf8'), 10);
  } catch (e) {
    r.unreadable['net.netfilter.nf_conntrack_max'] = code(e);
  }
  try {
    const sums = sumStatColumns(readFileSync(STAT, 'utf8'), ['insert_failed', 'drop', 'early_drop']);
    if (sums.insert_failed !== undefined) r.insertFailed = sums.insert_failed;
    if (sums.drop !== undefined) r.drop = sums.drop;
    if (sums.early_drop !== undefined) r.earlyDrop = sums.early_drop;
  } catch (e) {
    r.unreadable[STAT] = code(e);
  }
  return r;
}
