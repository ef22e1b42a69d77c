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
// that hands back typed arrays (no object per socket), then a sort and one merge walk; figures in
// bench/README.md (bench/forecast-sample.mjs).
import { performance } from 'node:perf_hooks';
import type { Result } from '../types.js';
import { errnoResult } from '../sys/errors.js';
import { hostBinding, invalidInput } from './failure.js';
import { bareAddress, NO_PEER_STATES, prepare } from './socket-query.js';

/** idiag_timer of a TIME_WAIT socket. */
const TIMER_TIME_WAIT = 3;

export interface ConnectionSample {
  /** performance.now() at the middle of the dump. */
  atMs: number;
  /** How long the dump took (ms): the uncertainty of `atMs`. */
  tookMs: number;
  /** The cookie of every socket toward the destination but listeners, sorted. */
  cookies: BigUint64Array;
  /** Sockets that are not in TIME_WAIT. */
  notTimeWait: number;
  /** For each TIME_WAIT socket, the milliseconds left on its timer. */
  timeWaitMs: number[];
}

export interface SampleQuery {
  host: string;
  port: number;
  localAddress?: string;
  protocol?: 'tcp' | 'udp';
}

/**
 * Reads the sockets toward host:port (from localAddress when given), in every state but LISTEN: their
 * cookies and TIME_WAIT timers, in typed arrays (no object per socket). Needs sock_diag: /proc/net has
 * no socket identity that survives into TIME_WAIT, so a refusal is returned as the failure it is,
 * not guessed around.
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
    excludeStates: protocol === 'tcp' ? NO_PEER_STATES : [],
    remote: { address: dst.address, port: q.port },
    ...(q.localAddress !== undefined ? { local: { address: q.localAddress } } : {}),
  });
  if ('ok' in p) return p;
  // An addon built before socketIdentities existed (an old prebuild): say so, do not throw.
  if (typeof b.socketIdentities !== 'function') return errnoResult('sock_diag', -38 /* ENOSYS */);
  const timeWait = b.constants.tcpStates.TIME_WAIT;
  const t0 = performance.now();
  const raw = b.socketIdentities(p.native);
  const t1 = performance.now();
  if (typeof raw === 'number') return errnoResult('sock_diag', raw);
  const cookies = new BigUint64Array(raw.cookies).sort();
  const timeWaitMs: number[] = [];
  let notTimeWait = 0;
  for (let i = 0; i < raw.states.length; i++) {
    if (protocol === 'tcp' && raw.states[i] === timeWait && raw.timers[i] === TIMER_TIME_WAIT)
      timeWaitMs.push(raw.expiresMs[i]!);
    else notTimeWait++;
  }
  return { ok: true, value: { atMs: (t0 + t1) / 2, tookMs: t1 - t0, cookies, notTimeWait, timeWaitMs } };
}

/** How many sockets of `later` were not in `earlier`: the connections made between the two readings. */
export function newConnections(earlier: ConnectionSample, later: ConnectionSample): number {
  // Both sorted: one merge walk.
  const a = earlier.cookies;
  const b = later.cookies;
  let i = 0;
  let n = 0;
  for (let j = 0; j < b.length; j++) {
    const cookie = b[j]!;
    while (i < a.length && a[i]! < cookie) i++;
    if (i >= a.length || a[i] !== cookie) n++;
  }
  return n;
}
