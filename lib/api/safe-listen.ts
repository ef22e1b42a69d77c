// safeListen(): safeBind, then a net.Server (so http, https and what is built on them) or a
// dgram.Socket listening on the descriptor — or the failure with its diagnosis.
import dgram from 'node:dgram';
import type { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { listen, localAddress } from '../sys/index.js';
import { AbortError } from './abort-error.js';
import { bindFailure, checkBindOptions, type BindOptions, type BindPlan } from './bind-options.js';
import { failedWith, invalidInput, type Failed } from './failed.js';
import { toSocketError } from './failure.js';
import { bindPlan, type BoundSocket } from './safe-bind.js';

/** listen(2) takes an int; the kernel then caps it at net.core.somaxconn. */
const MAX_BACKLOG = 2 ** 31 - 1;

/** What {@link safeListen} binds: every {@link BindOptions} field, and the listen backlog. */
export interface ListenOptions extends BindOptions {
  /**
   * The listen(2) backlog of a TCP server, an integer from 0 to 2^31-1 (the kernel caps it at
   * net.core.somaxconn); 511 by default, as Node. Unused for UDP.
   */
  backlog?: number;
}

/**
 * What {@link safeListen} resolves: `{ ok: true, address }`, or `{ ok: false, error, diagnosis }`.
 * Narrow on `ok` before reading.
 */
export type ListenResult =
  | {
      /** The server is listening (TCP) or receiving (UDP). */
      ok: true;
      /** What `server.address()` returns once it is. */
      address: AddressInfo;
    }
  | Failed;

/**
 * Is `fd` still the socket safeBind made? After a failed hand-over Node may already have closed it
 * (and the number may have been reused), so it is closed only while it still has its bound address.
 */
function stillOurs(socket: BoundSocket): boolean {
  const local = localAddress(socket.fd);
  return local.ok && local.value.port === socket.port && socket.host.startsWith(local.value.address);
}

/**
 * Why a dgram socket cannot take a descriptor, or undefined: Node refuses one that is already bound
 * or closed, but only once bind({ fd }) is called, after our bind — so ask first. address() throws
 * ERR_SOCKET_DGRAM_NOT_RUNNING for a closed socket and returns an address for a bound one.
 */
function dgramProblem(socket: dgram.Socket): string | undefined {
  try {
    socket.address();
    return 'the dgram socket is already bound';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING')
      return 'the dgram socket is closed';
    return undefined;
  }
}

/** Runs `start` and settles on the emitter's first 'listening' (undefined) or 'error' (the error). */
function startAndSettle(emitter: EventEmitter, start: () => void): Promise<unknown> {
  return new Promise((resolve) => {
    const onListening = () => {
      emitter.off('error', onError);
      resolve(undefined);
    };
    const onError = (e: unknown) => {
      emitter.off('listening', onListening);
      resolve(e ?? new Error('error'));
    };
    emitter.once('listening', onListening);
    emitter.once('error', onError);
    try {
      start();
    } catch (e) {
      emitter.off('listening', onListening);
      emitter.off('error', onError);
      resolve(e);
    }
  });
}

async function handOver(
  emitter: EventEmitter,
  start: () => void,
  socket: BoundSocket,
  failure: ReturnType<typeof bindFailure>,
): Promise<Failed | undefined> {
  const problem = await startAndSettle(emitter, start);
  if (problem === undefined) return undefined;
  if (stillOurs(socket)) socket.close();
  if (!(problem instanceof Error)) throw problem;
  const error = toSocketError(problem);
  // Not a system error (a bug, a TypeError from Node): that is no failure to diagnose.
  if (!error.syscall) throw problem;
  return failedWith({ ...failure, error }, error);
}

async function listenTcp(
  server: net.Server,
  socket: BoundSocket,
  plan: BindPlan,
  backlog: number,
): Promise<ListenResult> {
  // listen(2) first, ourselves: its failure (EADDRINUSE in a reusePort group of another user, …) is
  // then a SocketError on a descriptor that is certainly ours to close. Node's listen repeats it.
  const listened = listen(socket.fd, backlog);
  if (!listened.ok) {
    socket.close();
    return failedWith({ ...bindFailure(plan, 'listen'), error: listened.error }, listened.error);
  }
  const failed = await handOver(
    server,
    // Node reads the backlog of a listen by fd from the second argument only, not from the options.
    () => server.listen({ fd: socket.fd }, backlog),
    socket,
    bindFailure(plan, 'listen'),
  );
  return failed ?? { ok: true, address: server.address() as AddressInfo };
}

async function listenUdp(server: dgram.Socket, socket: BoundSocket, plan: BindPlan): Promise<ListenResult> {
  const failed = await handOver(server, () => server.bind({ fd: socket.fd }), socket, bindFailure(plan));
  return failed ?? { ok: true, address: server.address() };
}

/**
 * Binds with {@link safeBind} (all its options, `waitForAddress` and `signal` included) and starts
 * `server` on the descriptor: a `net.Server` — so `http.Server`, `https.Server` and frameworks built
 * on them — listens with `backlog`; a `dgram.Socket` starts receiving. The protocol follows the
 * server: TCP for a net.Server, UDP for a dgram.Socket, whose type (udp4, udp6) must match the
 * address family.
 *
 * Resolves `{ ok: true, address }` (what `server.address()` returns) once the server emits
 * 'listening', or `{ ok: false, error, diagnosis }` with the causes of {@link safeBind}
 * (`address-not-local`, `address-appeared`, `address-tentative`, `address-dad-failed`, `address-on-other-host`,
 * `family-unavailable`, `scope-id-required`, `port-in-use` — also for a listen EADDRINUSE —,
 * `bind-ports-exhausted`, `port-privileged`, `invalid-address` — also for a dgram socket whose type
 * does not match the address family —, `unsupported-platform`, `unknown`). When the server rejects
 * the descriptor it is closed. Throws a TypeError for a server that is neither, a net.Server
 * already listening, an option of the wrong type or a `backlog` that is no integer >= 0; rejects
 * with an AbortError when `signal` aborts, and with Node's own error when the server fails with one
 * that is no system error. Not for cluster workers: Node passes a listen by fd to
 * the primary process, where the number means nothing.
 */
export async function safeListen(
  server: net.Server | dgram.Socket,
  opts: ListenOptions,
): Promise<ListenResult> {
  const isTcp = server instanceof net.Server;
  if (!isTcp && !(server instanceof dgram.Socket)) {
    throw new TypeError(
      'safeListen(server, options): server must be a net.Server (http, https…) or a dgram.Socket',
    );
  }
  if (isTcp && server.listening) throw new TypeError('safeListen(): the server is already listening');
  const unusable = isTcp ? undefined : dgramProblem(server as dgram.Socket);
  if (unusable !== undefined) throw new TypeError(`safeListen(): ${unusable}`);
  // Every input is checked before the bind: a throw after it would leave the port bound.
  const backlog = (opts as Partial<ListenOptions> | null)?.backlog;
  if (
    backlog !== undefined &&
    (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 0 || backlog > MAX_BACKLOG)
  ) {
    throw new TypeError(
      `safeListen(): backlog must be an integer from 0 to ${MAX_BACKLOG}, got ${String(backlog)}`,
    );
  }
  const checked = checkBindOptions(opts, 'safeListen()', isTcp ? 'tcp' : 'udp');
  if (!checked.ok) {
    if (opts.signal?.aborted) throw new AbortError(opts.signal);
    return invalidInput(checked.reason, checked.failure);
  }
  const plan = checked.plan;
  if (!isTcp) {
    const type = (server as dgram.Socket & { type?: string }).type;
    const wanted = plan.host.family === 4 ? 'udp4' : 'udp6';
    if (type !== undefined && type !== wanted) {
      if (opts.signal?.aborted) throw new AbortError(opts.signal);
      return invalidInput(
        `${plan.host.address} is an IPv${plan.host.family} address, but the dgram socket is ${type}: create it with dgram.createSocket('${wanted}')`,
        bindFailure(plan),
      );
    }
  }
  const bound = await bindPlan(plan);
  if (!bound.ok) return bound;
  return isTcp
    ? listenTcp(server, bound.socket, plan, backlog ?? 511)
    : listenUdp(server as dgram.Socket, bound.socket, plan);
}
