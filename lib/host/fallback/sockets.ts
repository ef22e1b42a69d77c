// The socket table without sock_diag: /proc/net/{tcp,udp}{,6} of the calling thread's namespace,
// through the same walker lib/host uses when sock_diag is refused (proc-net.ts).
import type { Result } from '../../types.js';
import { countFromProc, listFromProc } from '../proc-net.js';
import { prepare, type TableBinding } from '../socket-query.js';
import { finishTally, tallyProc } from '../socket-tally.js';
import type { RemoteTally, SocketCounts, SocketList, SocketQuery } from '../types.js';

/**
 * The numbers /proc/net prints and the query filter uses. Typed here only because there is no addon
 * to read them from: the TCP states of include/net/tcp_states.h (the `st` column of /proc/net/tcp),
 * and Linux's AF_* and IPPROTO_* values, used only to tell the query's families apart.
 */
export const TABLE: TableBinding = {
  constants: {
    AF_UNSPEC: 0,
    AF_INET: 2,
    AF_INET6: 10,
    IPPROTO_TCP: 6,
    IPPROTO_UDP: 17,
    tcpStates: {
      ESTABLISHED: 1,
      SYN_SENT: 2,
      SYN_RECV: 3,
      FIN_WAIT1: 4,
      FIN_WAIT2: 5,
      TIME_WAIT: 6,
      CLOSE: 7,
      CLOSE_WAIT: 8,
      LAST_ACK: 9,
      LISTEN: 10,
      CLOSING: 11,
      NEW_SYN_RECV: 12,
      BOUND_INACTIVE: 13,
    },
  },
};

const NOTE = 'no native addon: read /proc/net';

export function countSocketsFromTable(q: SocketQuery = {}): Result<SocketCounts> {
  const p = prepare(TABLE, q);
  if ('ok' in p) return p;
  return countFromProc(TABLE, p, NOTE);
}

export function listSocketsFromTable(q: SocketQuery = {}, limit = 1000): Result<SocketList> {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
    throw new TypeError('limit must be a non-negative integer');
  const p = prepare(TABLE, q);
  if ('ok' in p) return p;
  return listFromProc(TABLE, p, limit, NOTE);
}

export function tallyFromTable(
  q: SocketQuery = {},
  skipLocalPort: (port: number) => boolean = () => false,
): Result<RemoteTally> {
  const p = prepare(TABLE, q);
  if ('ok' in p) return p;
  const walked = tallyProc(TABLE, p, skipLocalPort);
  if (!(walked instanceof Map)) return walked;
  return { ok: true, value: finishTally(p, walked, 'proc', NOTE) };
}
