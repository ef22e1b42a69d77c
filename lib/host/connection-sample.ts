// One reading of the sockets toward a destination, each with its identity (the kernel's socket
// cookie) and its timer, for counting new connections between two readings and knowing when the
// TIME_WAIT sockets will free their ports.
//
// Why the cookie: a socket's idiag_cookie is set the first time sock_diag (or anything else) asks
// for it and is carried into its TIME_WAIT socket (inet_twsk_alloc copies sk_cookie), so one
// connection keeps one cookie from connect to the end of TIME_WAIT; every socket present at the
// first reading got its cookie then. A cookie in the second reading that was not in the first is
// therefore a connection made in between — exact, where a difference of counts would subtract the
// sockets that expired meanwhile, and (source port + state) would miss a port reused by
// tcp_tw_reuse. Measured on 6.18: docs/kernel-facts.md. Cost: one filtered dump per reading
// (12-38 ms here, the dump walks the whole established hash) and one small object per socket
// toward this destination, never per socket of the table.
import { performance } from 'node:perf_hooks';
import type { Result } from '../types.js';
import { errnoResult } from '../sys/errors.js';
import { hostBinding, invalidInput } from './failure.js';
import { bareAddress, nameOf, prepare } from './socket-query.js';

/** idiag_timer of a TIME_WAIT socket. */
const TIMER_TIME_WAIT = 3;

export interface SampledSocket {
  state: string;
  /** Milliseconds until the TIME_WAIT timer fires; absent for sockets not in TIME_WAIT. */
  timeWaitMs?: number;
}

export interface ConnectionSample {
  /** performance.now() at the middle of the dump. */
  atMs: number;
  /** How long the dump took (ms): the uncertainty of `atMs`. */
  tookMs: number;
  /** Every socket toward the destination but listeners, by cookie. */
  sockets: Map<bigint, SampledSocket>;
}

export interface SampleQuery {
  host: string;
  port: number;
  localAddress?: string;
  protocol?: 'tcp' | 'udp';
}

/**
 * Lists the sockets toward host:port (from localAddress when given), in every state but LISTEN, with
 * their cookies. Needs sock_diag: /proc/net has no socket identity that survives into TIME_WAIT, so
 * a refusal is returned as the failure it is, not guessed around.
 */
export function sampleConnections(q: SampleQuery): Result<ConnectionSample> {
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const dst = bareAddress(q.host);
  if (!dst) return invalidInput(`address ${q.host}`);
  const protocol = q.protocol ?? 'tcp';
  const p = prepare(b, {
    protocol,
    excludeStates: protocol === 'tcp' ? ['LISTEN'] : [],
    remote: { address: dst.address, port: q.port },
    ...(q.localAddress !== undefined ? { local: { address: q.localAddress } } : {}),
  });
  if ('ok' in p) return p;
  const t0 = performance.now();
  const raw = b.socketList(p.native, 0x7fffffff);
  const t1 = performance.now();
  if (typeof raw === 'number') return errnoResult('sock_diag', raw);
  const sockets = new Map<bigint, SampledSocket>();
  for (const s of raw) {
    if (s.cookie === undefined) continue;
    const state = nameOf(p.names, s.state);
    sockets.set(
      s.cookie,
      s.timer === TIMER_TIME_WAIT && state === 'TIME_WAIT'
        ? { state, timeWaitMs: s.expiresMs ?? 0 }
        : { state },
    );
  }
  return { ok: true, value: { atMs: (t0 + t1) / 2, tookMs: t1 - t0, sockets } };
}

/** How many sockets of `later` were not in `earlier`: the connections made between the two readings. */
export function newConnections(earlier: ConnectionSample, later: ConnectionSample): number {
  let n = 0;
  for (const cookie of later.sockets.keys()) if (!earlier.sockets.has(cookie)) n++;
  return n;
}
