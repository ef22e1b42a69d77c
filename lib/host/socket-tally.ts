// The socket table grouped by local address and remote address and port — a source-port pool each —
// with counts by state, exact at any table size.
import type { NativeSocketEntry } from '../binding.js';
import type { Family, Result } from '../types.js';
import { formatIpBytes } from '../sys/ip-text.js';
import { errnoResult, type ErrorResult } from '../sys/errors.js';
import { hostBinding } from './failure.js';
import { hexToBytes, walkProc } from './proc-net.js';
import { bothRefused, nameOf, prepare, REFUSED, type Prepared, type TableBinding } from './socket-query.js';
import type { RemoteGroup, RemoteTally, SocketQuery, SocketSource } from './types.js';

// --- sockets grouped by remote end ---------------------------------------------------------------

/** Up to this many sockets, a sock_diag listing is grouped; above it, /proc/net is walked line by line. */
const TALLY_LIST_LIMIT = 10_000;

type Group = {
  family: Family;
  key: string;
  local: string;
  remote: string;
  remotePort: number;
  byNumber: number[];
};

export function finishTally(
  p: Prepared,
  groups: Map<string, Group>,
  via: SocketSource,
  note?: string,
): RemoteTally {
  const out: RemoteGroup[] = [];
  for (const g of groups.values()) {
    const byState: Record<string, number> = {};
    let total = 0;
    g.byNumber.forEach((n, state) => {
      if (!n) return;
      byState[nameOf(p.names, state)] = n;
      total += n;
    });
    out.push({
      family: g.family,
      local: g.local,
      remote: g.remote,
      remotePort: g.remotePort,
      byState,
      total,
    });
  }
  return note !== undefined ? { groups: out, via, note } : { groups: out, via };
}

/** A v4-mapped peer is an IPv4 destination: it is grouped with the AF_INET sockets toward it. */
function unmapped(address: string): { address: string; family: Family } {
  const v4 = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return { address: v4, family: v4.includes(':') ? 6 : 4 };
}

function tallyList(entries: NativeSocketEntry[], p: Prepared, skip: (port: number) => boolean) {
  const groups = new Map<string, Group>();
  for (const s of entries) {
    if (skip(s.sport)) continue;
    const { address, family } = unmapped(s.dst);
    const local = unmapped(s.src).address;
    const key = `${local} ${address} ${s.dport}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { family, key, local, remote: address, remotePort: s.dport, byNumber: [] }));
    g.byNumber[s.state] = (g.byNumber[s.state] ?? 0) + 1;
  }
  return groups;
}

export function tallyProc(
  b: TableBinding,
  p: Prepared,
  skip: (port: number) => boolean,
): Map<string, Group> | ErrorResult {
  // Grouped on the line's own hex text; only one address per group is ever decoded.
  const byHex = new Map<string, Group>();
  const failed = walkProc(b, p, (line) => {
    if (skip(Number.parseInt(line.local.slice(line.local.indexOf(':') + 1), 16))) return true;
    const localHex = line.local.slice(0, line.local.indexOf(':'));
    const hexKey = `${line.family}${localHex} ${line.remote}`;
    let g = byHex.get(hexKey);
    if (!g) {
      const [rh = '', rp = '0'] = line.remote.split(':');
      const { address, family } = unmapped(formatIpBytes(hexToBytes(rh)));
      const local = unmapped(formatIpBytes(hexToBytes(localHex))).address;
      g = {
        family,
        key: `${local} ${address} ${Number.parseInt(rp, 16)}`,
        local,
        remote: address,
        remotePort: Number.parseInt(rp, 16),
        byNumber: [],
      };
      byHex.set(hexKey, g);
    }
    g.byNumber[line.state] = (g.byNumber[line.state] ?? 0) + 1;
    return true;
  });
  if (failed) return failed;
  // A v4-mapped peer (tcp6) and the same IPv4 peer (tcp) are two hex keys but one pool.
  const groups = new Map<string, Group>();
  for (const g of byHex.values()) {
    const same = groups.get(g.key);
    if (!same) groups.set(g.key, g);
    else g.byNumber.forEach((n, state) => (same.byNumber[state] = (same.byNumber[state] ?? 0) + n));
  }
  return groups;
}

/**
 * The matching sockets grouped by local address and remote address and port, with their count by state, exact at any
 * table size and with no object kept per socket: a small table is listed by sock_diag and grouped;
 * a table of more than TALLY_LIST_LIMIT sockets is walked in /proc/net one line at a time (and
 * listed whole by sock_diag only when /proc/net cannot be read). Sockets whose local port
 * `skipLocalPort` accepts are left out. `via` and `note` say what was read.
 */
export function tallyByRemote(
  q: SocketQuery = {},
  skipLocalPort: (port: number) => boolean = () => false,
): Result<RemoteTally> {
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const p = prepare(b, q);
  if ('ok' in p) return p;
  const raw = b.socketList(p.native, TALLY_LIST_LIMIT + 1);
  let note: string;
  if (typeof raw === 'number') {
    const failed = errnoResult('sock_diag', raw);
    if (!REFUSED.has(failed.error.code)) return failed;
    note = `sock_diag refused (${failed.error.code}); read /proc/net instead`;
  } else if (raw.length <= TALLY_LIST_LIMIT) {
    return { ok: true, value: finishTally(p, tallyList(raw, p, skipLocalPort), 'sock_diag') };
  } else {
    note = `more than ${TALLY_LIST_LIMIT.toLocaleString('en-US')} sockets: counted in /proc/net, line by line`;
  }
  const walked = tallyProc(b, p, skipLocalPort);
  if (!(walked instanceof Map)) {
    if (typeof raw === 'number') return bothRefused(errnoResult('sock_diag', raw), walked);
    // /proc/net is closed to us but sock_diag is not: list the whole table, exact if costly.
    const all = b.socketList(p.native, 0x7fffffff);
    if (typeof all === 'number') return errnoResult('sock_diag', all);
    const why = `/proc/net unreadable (${walked.error.code}); listed every socket by sock_diag`;
    return { ok: true, value: finishTally(p, tallyList(all, p, skipLocalPort), 'sock_diag', why) };
  }
  return { ok: true, value: finishTally(p, walked, 'proc', note) };
}
