// The hand-off of a prepared descriptor (opened, options set, source bound — by openSocket) to Node:
// a net.Socket over the fd whose connect libuv makes, non-blocking. Shared by safeConnect and the
// source-pool connector of safebind/agent; no diagnosis here, only the outcome as a Result.
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import { closeSocket, releaseSocket, socketError } from '../sys/index.js';
import type { Result } from '../types.js';
import { AbortError, type AbortLike } from './abort-error.js';
import { toSocketError } from './failure.js';
import { startTimer, type CancelTimer } from './timer.js';

export interface FdConnect {
  /** The destination's IP literal, as Node's connect takes it. */
  host: string;
  port: number;
  /** Milliseconds to wait for the handshake; absent or 0 leaves the kernel's timeout. */
  timeout?: number | undefined;
  signal?: AbortLike | undefined;
  /**
   * 'connected' (default): resolve once the handshake is done. 'issued': resolve as soon as the
   * connect system call has returned without an error (EINPROGRESS), the socket still connecting, as
   * net.createConnection hands it back: a failure of the connect(2) call itself (EADDRNOTAVAIL,
   * ENETUNREACH…) is still a failed Result; a later one (refused, timed out) is the socket's own
   * 'error', and `timeout` is the caller's (socket.setTimeout).
   */
  handOff?: 'connected' | 'issued';
}

/**
 * Connects `fd` to `host:port` through a net.Socket and resolves the connected socket, or the
 * failure with the socket destroyed (Node closes the fd). Rejects with an AbortError when `signal`
 * aborts. The fd is closed on every failing path, a throw of the net.Socket constructor included.
 */
export function connectFd(fd: number, to: FdConnect): Promise<Result<net.Socket>> {
  return new Promise((resolve, reject) => {
    if (to.signal?.aborted) {
      closeSocket(fd);
      reject(new AbortError(to.signal));
      return;
    }
    let socket: net.Socket;
    try {
      releaseSocket(fd);
      socket = new net.Socket({ fd, readable: true, writable: true });
    } catch (e) {
      closeSocket(fd);
      resolve({ ok: false, error: toSocketError(e) });
      return;
    }
    let stopTimer: CancelTimer = () => {};
    const cleanup = () => {
      stopTimer();
      socket.off('connect', onConnect);
      socket.off('error', onError);
      to.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (e: ReturnType<typeof toSocketError>) => {
      cleanup();
      socket.destroy();
      resolve({ ok: false, error: e });
    };
    const onConnect = () => {
      cleanup();
      resolve({ ok: true, value: socket });
    };
    const onError = (e: Error) => fail(toSocketError(e));
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(new AbortError(to.signal));
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    to.signal?.addEventListener('abort', onAbort, { once: true });
    const issued = to.handOff === 'issued';
    if (!issued && to.timeout !== undefined && to.timeout > 0) {
      stopTimer = startTimer(to.timeout, () =>
        fail(socketError('connect', osConstants.errno.ETIMEDOUT, { address: to.host, port: to.port })),
      );
    }
    socket.connect({ port: to.port, host: to.host });
    // Node makes the connect(2) call of an IP literal on the next tick (net's lookupAndConnect), and
    // a failure of the call itself destroys the socket there and then: this tick, queued after it,
    // sees either. Still connecting and not destroyed: the call returned EINPROGRESS.
    if (issued)
      process.nextTick(() => {
        if (socket.destroyed || !socket.connecting) return;
        cleanup();
        resolve({ ok: true, value: socket });
      });
  });
}
