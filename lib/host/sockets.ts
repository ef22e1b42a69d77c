// The socket table, counted or listed with the filtering done in the kernel (sock_diag, as ss does);
// /proc/net (proc-net.ts) only when sock_diag is refused. The grouping by remote end is socket-tally.ts.
import type { Result } from '../types.js';
import { errnoResult } from '../sys/errors.js';
import { hostBinding } from './failure.js';
import { countFromProc, listFromProc } from './proc-net.js';
import { bothRefused, nameOf, prepare, REFUSED } from './socket-query.js';
import type { SocketCounts, SocketEntry, SocketList, SocketQuery } from './types.js';

// The churn benchmark imports bareAddress from here.
export { bareAddress } from './socket-query.js';

/**
 * Counts the matching sockets by state name (ESTABLISHED, TIME_WAIT, …; UNCONN and ESTAB for UDP),
 * in one kernel dump per family with no object per socket. Falls back to /proc/net only when
 * sock_diag is refused; `via` and `note` say which was read.
 */
export function countSockets(q: SocketQuery = {}): Result<SocketCounts> {
  const load = hostBinding();
  if (!load.ok) return load;
  const p = prepare(load.binding, q);
  if ('ok' in p) return p;
  const counts = load.binding.socketCounts(p.native);
  if (typeof counts === 'number') {
    const failed = errnoResult('sock_diag', counts);
    if (!REFUSED.has(failed.error.code)) return failed;
    return bothRefused(
      failed,
      countFromProc(load.binding, p, `sock_diag refused (${failed.error.code}); read /proc/net instead`),
    );
  }
  const byState: Record<string, number> = {};
  let total = 0;
  counts.forEach((n, state) => {
    if (n === 0) return;
    byState[nameOf(p.names, state)] = n;
    total += n;
  });
  return { ok: true, value: { byState, total, via: 'sock_diag' } };
}

/** The matching sockets, at most `limit` of them (`truncated` says when more matched). */
export function listSockets(q: SocketQuery = {}, limit = 1000): Result<SocketList> {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
    throw new TypeError('limit must be a non-negative integer');
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const p = prepare(b, q);
  if ('ok' in p) return p;
  const raw = b.socketList(p.native, limit + 1);
  if (typeof raw === 'number') {
    const failed = errnoResult('sock_diag', raw);
    if (!REFUSED.has(failed.error.code)) return failed;
    return bothRefused(
      failed,
      listFromProc(b, p, limit, `sock_diag refused (${failed.error.code}); read /proc/net instead`),
    );
  }
  const sockets: SocketEntry[] = [];
  const names = new Map<number, string>([[0, '']]);
  const deviceOf = (index: number): string => {
    let name = names.get(index);
    if (name === undefined) {
      const found = b.ifIndexToName(index);
      name = typeof found === 'string' ? found : `if${index}`;
      names.set(index, name);
    }
    return name;
  };
  for (const s of raw.slice(0, limit)) {
    sockets.push({
      protocol: p.protocol,
      family: s.family === b.constants.AF_INET6 ? 6 : 4,
      state: nameOf(p.names, s.state),
      local: s.src,
      localPort: s.sport,
      remote: s.dst,
      remotePort: s.dport,
      uid: s.uid,
      inode: s.inode,
      ...(s.v6only !== undefined ? { v6only: s.v6only } : {}),
      device: deviceOf(s.boundIf),
    });
  }
  return { ok: true, value: { sockets, truncated: raw.length > limit, via: 'sock_diag' } };
}
