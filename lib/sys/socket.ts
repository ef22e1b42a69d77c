// Typed socket operations: socket(2), bind, listen, non-blocking connect, SO_ERROR, getsockname,
// getpeername, close. One addon call each, errno returned as a failed Result. Descriptors are
// SOCK_CLOEXEC | SOCK_NONBLOCK, ready for `server.listen({ fd })`, `net.Socket({ fd })`, dgram `bind({ fd })`.
import { constants as osConstants } from 'node:os';
import type { NativeBinding, NativeSockAddr } from '../binding.js';
import type { Family, Protocol, Result, SocketError } from '../types.js';
import type { SockAddr } from './address.js';
import { requireFamily, requireFd, requireSockAddr } from './checks.js';
import { errnoResult, native, socketError, type ErrorTarget } from './errors.js';

function toNative(b: NativeBinding, addr: SockAddr): NativeSockAddr {
  return {
    family: addr.family === 4 ? b.constants.AF_INET : b.constants.AF_INET6,
    address: addr.address,
    port: addr.port,
    scopeId: addr.family === 6 ? (addr.scopeId ?? 0) : 0,
  };
}

function fromNative(b: NativeBinding, addr: NativeSockAddr): SockAddr {
  const out: SockAddr = {
    address: addr.address,
    port: addr.port,
    family: addr.family === b.constants.AF_INET6 ? 6 : 4,
  };
  if (addr.scopeId !== 0) out.scopeId = addr.scopeId;
  return out;
}

function target(addr: SockAddr): ErrorTarget {
  return { address: addr.address, port: addr.port };
}

/**
 * socket(2) alone: a new TCP (SOCK_STREAM) or UDP (SOCK_DGRAM) socket of the family, always
 * SOCK_CLOEXEC | SOCK_NONBLOCK. The caller owns the descriptor: close it with closeSocket(), or hand
 * it to Node, which then owns it. Use openSocket() (recipe.ts) for a socket with options or a bind.
 */
export function newSocket(family: Family, protocol: Protocol): Result<number> {
  requireFamily(family);
  if (protocol !== 'tcp' && protocol !== 'udp') {
    throw new TypeError(`safebind: protocol must be 'tcp' or 'udp', got ${String(protocol)}`);
  }
  const n = native();
  if (!n.ok) return n;
  const c = n.binding.constants;
  const fd = n.binding.socket(
    family === 4 ? c.AF_INET : c.AF_INET6,
    protocol === 'tcp' ? c.SOCK_STREAM : c.SOCK_DGRAM,
  );
  return fd < 0 ? errnoResult('socket', fd) : { ok: true, value: fd };
}

/**
 * bind(2) to the address. `error.address` is the address without its scope, as the address list
 * shows it; `error.port` is kept even when 0.
 */
export function bind(fd: number, addr: SockAddr): Result<void> {
  requireFd(fd);
  requireSockAddr(addr);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.bind(fd, toNative(n.binding, addr));
  return rc < 0 ? errnoResult('bind', rc, target(addr)) : { ok: true, value: undefined };
}

/**
 * listen(2) with the backlog (511 by default, as Node). A failure names the bound address and port,
 * read back with getsockname, the way Node's listen errors do.
 */
export function listen(fd: number, backlog = 511): Result<void> {
  requireFd(fd);
  if (!Number.isInteger(backlog))
    throw new TypeError(`safebind: backlog must be an integer, got ${String(backlog)}`);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.listen(fd, backlog);
  if (rc >= 0) return { ok: true, value: undefined };
  const local = localAddress(fd);
  return errnoResult('listen', rc, local.ok ? target(local.value) : undefined);
}

/**
 * connect(2) without blocking: 'connected' when it completed at once, 'in-progress' (EINPROGRESS, a
 * state, not an error) when the handshake goes on; wait for writability, then read pendingError().
 */
export function connect(fd: number, addr: SockAddr): Result<'connected' | 'in-progress'> {
  requireFd(fd);
  requireSockAddr(addr);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.connect(fd, toNative(n.binding, addr));
  if (rc === 0) return { ok: true, value: 'connected' };
  if (rc === -osConstants.errno.EINPROGRESS) return { ok: true, value: 'in-progress' };
  return errnoResult('connect', rc, target(addr));
}

/**
 * SO_ERROR: the pending error of the socket, cleared by reading it; `null` when there is none. For a
 * non-blocking connect this is its outcome, so the error is reported as `syscall` ('connect' by
 * default) with the target given, e.g. `connect ECONNREFUSED 127.0.0.1:9`. socket(7).
 */
export function pendingError(
  fd: number,
  context: ErrorTarget & { syscall?: string } = {},
): Result<SocketError | null> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.socketError(fd);
  if (rc < 0) return errnoResult('getsockopt', rc, { detail: 'SO_ERROR' });
  if (rc === 0) return { ok: true, value: null };
  const { syscall = 'connect', ...where } = context;
  return { ok: true, value: socketError(syscall, rc, where) };
}

/** getsockname(2): the local address and port; `scopeId` only for scoped IPv6. */
export function localAddress(fd: number): Result<SockAddr> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const addr = n.binding.getsockname(fd);
  return typeof addr === 'number'
    ? errnoResult('getsockname', addr)
    : { ok: true, value: fromNative(n.binding, addr) };
}

/** getpeername(2): the remote end; ENOTCONN while a connect is still in progress. */
export function remoteAddress(fd: number): Result<SockAddr> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const addr = n.binding.getpeername(fd);
  return typeof addr === 'number'
    ? errnoResult('getpeername', addr)
    : { ok: true, value: fromNative(n.binding, addr) };
}

/**
 * The descriptor is handed over — to Node (`net.Socket({ fd })`, `server.listen({ fd })`) or to the
 * caller of a public function — so the addon no longer holds it. Until then the addon closes it when
 * its environment is torn down: a worker terminated between socket() and the code that would close
 * or hand over the descriptor (which can stop at any function call) leaks nothing.
 */
export function releaseSocket(fd: number): void {
  requireFd(fd);
  const n = native();
  if (n.ok) n.binding.release(fd);
}

/** close(2). Never call it on a descriptor already handed to Node: Node closes those itself. */
export function closeSocket(fd: number): Result<void> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.close(fd);
  return rc < 0 ? errnoResult('close', rc) : { ok: true, value: undefined };
}
