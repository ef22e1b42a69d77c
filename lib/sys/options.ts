// Socket options named after socket2: `setX(fd, …)` sets, the bare noun `x(fd)` reads back. Grouped by
// level; where the option differs per family (freebind) the family is an argument. Option numbers come
// from the addon's constants, never from TypeScript.
import { constants as osConstants } from 'node:os';
import type { NativeBinding } from '../binding.js';
import type { Family, Result } from '../types.js';
import { failure, native } from './errors.js';
import { requireFamily, requireFd } from './socket.js';

type Level = 'SOL_SOCKET' | 'IPPROTO_IP' | 'IPPROTO_IPV6';
type OptionName =
  | 'SO_REUSEADDR'
  | 'SO_REUSEPORT'
  | 'IP_FREEBIND'
  | 'IP_TRANSPARENT'
  | 'IP_BIND_ADDRESS_NO_PORT'
  | 'IPV6_FREEBIND'
  | 'IPV6_V6ONLY';

const OK: Result<void> = { ok: true, value: undefined };

function requireBool(on: unknown): asserts on is boolean {
  if (typeof on !== 'boolean') throw new TypeError(`safebind: expected a boolean, got ${String(on)}`);
}

function setInt(b: NativeBinding, fd: number, level: Level, name: OptionName, value: number): number {
  return b.setIntOption(fd, b.constants[level], b.constants[name], value);
}

function getInt(b: NativeBinding, fd: number, level: Level, name: OptionName): number {
  return b.getIntOption(fd, b.constants[level], b.constants[name]);
}

function setFlag(fd: number, level: Level, name: OptionName, on: boolean): Result<void> {
  requireFd(fd);
  requireBool(on);
  const n = native();
  if (!n.ok) return n;
  const rc = setInt(n.binding, fd, level, name, on ? 1 : 0);
  return rc < 0 ? failure('setsockopt', rc, { detail: name }) : OK;
}

function getFlag(fd: number, level: Level, name: OptionName): Result<boolean> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const rc = getInt(n.binding, fd, level, name);
  return rc < 0 ? failure('getsockopt', rc, { detail: name }) : { ok: true, value: rc !== 0 };
}

// --- SOL_SOCKET -------------------------------------------------------------------------------

/**
 * SO_REUSEADDR.
 * Lets bind() take a local port still held by TIME_WAIT connections (never one held by a listener).
 * socket(7).
 */
export function setReuseAddress(fd: number, on: boolean): Result<void> {
  return setFlag(fd, 'SOL_SOCKET', 'SO_REUSEADDR', on);
}

/** SO_REUSEADDR: whether it is set. socket(7). */
export function reuseAddress(fd: number): Result<boolean> {
  return getFlag(fd, 'SOL_SOCKET', 'SO_REUSEADDR');
}

/**
 * SO_REUSEPORT.
 * Lets several sockets of the same user bind the same address and port; the kernel spreads incoming
 * connections or datagrams across them. Every socket of the group must set it before bind. socket(7).
 */
export function setReusePort(fd: number, on: boolean): Result<void> {
  return setFlag(fd, 'SOL_SOCKET', 'SO_REUSEPORT', on);
}

/** SO_REUSEPORT: whether it is set. socket(7). */
export function reusePort(fd: number): Result<boolean> {
  return getFlag(fd, 'SOL_SOCKET', 'SO_REUSEPORT');
}

/**
 * SO_BINDTODEVICE.
 * Sends and receives only through the named interface; '' removes the binding. A name that is no
 * interface fails with ENODEV. socket(7).
 */
export function setDevice(fd: number, name: string): Result<void> {
  requireFd(fd);
  if (typeof name !== 'string') throw new TypeError(`safebind: device must be a string, got ${typeof name}`);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.setDevice(fd, name);
  return rc < 0 ? failure('setsockopt', rc, { detail: `SO_BINDTODEVICE ${name}` }) : OK;
}

/** SO_BINDTODEVICE: the interface the socket is bound to, '' when none. socket(7). */
export function device(fd: number): Result<string> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.getDevice(fd);
  return typeof rc === 'number'
    ? failure('getsockopt', rc, { detail: 'SO_BINDTODEVICE' })
    : { ok: true, value: rc };
}

/**
 * SO_LINGER.
 * `seconds` to wait for unsent data at close; 0 makes close() send RST and skip TIME_WAIT; `null`
 * turns lingering off (the default: close returns at once, the kernel finishes in the background).
 * socket(7).
 */
export function setLinger(fd: number, seconds: number | null): Result<void> {
  requireFd(fd);
  if (seconds !== null && (!Number.isInteger(seconds) || seconds < 0)) {
    throw new TypeError(
      `safebind: linger seconds must be a non-negative integer or null, got ${String(seconds)}`,
    );
  }
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.setLinger(fd, seconds !== null, seconds ?? 0);
  return rc < 0 ? failure('setsockopt', rc, { detail: 'SO_LINGER' }) : OK;
}

/** SO_LINGER: the linger time in seconds, or `null` when off. socket(7). */
export function linger(fd: number): Result<number | null> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.getLinger(fd);
  if (typeof rc === 'number') return failure('getsockopt', rc, { detail: 'SO_LINGER' });
  return { ok: true, value: rc.on ? rc.seconds : null };
}

// --- IPPROTO_IP (most also apply to IPv6 sockets) -----------------------------------------------

/**
 * IP_FREEBIND (IPv4) or IPV6_FREEBIND (IPv6).
 * Lets bind() take an address that is on no interface yet (a VIP, an address still in DAD); traffic
 * flows once it is attached. On a kernel without IPV6_FREEBIND (before 4.15) the IPv6 socket gets
 * IP_FREEBIND, which the kernel honours for IPv6 too. ip(7), ipv6(7).
 */
export function setFreebind(fd: number, family: Family, on: boolean): Result<void> {
  requireFamily(family);
  if (family === 4) return setFlag(fd, 'IPPROTO_IP', 'IP_FREEBIND', on);
  const v6 = setFlag(fd, 'IPPROTO_IPV6', 'IPV6_FREEBIND', on);
  if (v6.ok || v6.error.errno !== osConstants.errno.ENOPROTOOPT) return v6;
  return setFlag(fd, 'IPPROTO_IP', 'IP_FREEBIND', on);
}

/** IP_FREEBIND / IPV6_FREEBIND: whether it is set (both set one flag of the socket). ip(7). */
export function freebind(fd: number, family: Family): Result<boolean> {
  requireFamily(family);
  if (family === 4) return getFlag(fd, 'IPPROTO_IP', 'IP_FREEBIND');
  const v6 = getFlag(fd, 'IPPROTO_IPV6', 'IPV6_FREEBIND');
  if (v6.ok || v6.error.errno !== osConstants.errno.ENOPROTOOPT) return v6;
  return getFlag(fd, 'IPPROTO_IP', 'IP_FREEBIND');
}

/**
 * IP_BIND_ADDRESS_NO_PORT.
 * bind(ip, 0) fixes only the source address and leaves the port to connect(), which can then share
 * ports across destinations (the pool is per 4-tuple). For both families. ip(7).
 */
export function setBindAddressNoPort(fd: number, on: boolean): Result<void> {
  return setFlag(fd, 'IPPROTO_IP', 'IP_BIND_ADDRESS_NO_PORT', on);
}

/** IP_BIND_ADDRESS_NO_PORT: whether it is set. ip(7). */
export function bindAddressNoPort(fd: number): Result<boolean> {
  return getFlag(fd, 'IPPROTO_IP', 'IP_BIND_ADDRESS_NO_PORT');
}

/**
 * IP_TRANSPARENT.
 * Lets the socket bind and answer for any address, for transparent proxying (TPROXY). Needs
 * CAP_NET_ADMIN (or CAP_NET_RAW): without it, a failure with EPERM. Sets the flag IPv6 sockets use
 * too. ip(7).
 */
export function setTransparent(fd: number, on: boolean): Result<void> {
  return setFlag(fd, 'IPPROTO_IP', 'IP_TRANSPARENT', on);
}

/** IP_TRANSPARENT: whether it is set. ip(7). */
export function transparent(fd: number): Result<boolean> {
  return getFlag(fd, 'IPPROTO_IP', 'IP_TRANSPARENT');
}

/**
 * IP_LOCAL_PORT_RANGE.
 * Narrows the ephemeral ports this socket may pick to [lo, hi] within net.ipv4.ip_local_port_range;
 * [0, 0] returns to the system range. Linux 6.3+; older kernels give a failure with ENOPROTOOPT.
 * ip(7).
 */
export function setLocalPortRange(fd: number, range: readonly [number, number]): Result<void> {
  requireFd(fd);
  const [lo, hi] = range;
  for (const p of [lo, hi]) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      throw new TypeError(`safebind: local port range bounds must be integers 0-65535, got ${String(p)}`);
    }
  }
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.setLocalPortRange(fd, lo, hi);
  return rc < 0 ? failure('setsockopt', rc, { detail: 'IP_LOCAL_PORT_RANGE' }) : OK;
}

/** IP_LOCAL_PORT_RANGE: the socket's [lo, hi]; [0, 0] when unset. ip(7). */
export function localPortRange(fd: number): Result<[number, number]> {
  requireFd(fd);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.getLocalPortRange(fd);
  return typeof rc === 'number'
    ? failure('getsockopt', rc, { detail: 'IP_LOCAL_PORT_RANGE' })
    : { ok: true, value: rc };
}

// --- IPPROTO_IPV6 -------------------------------------------------------------------------------

/**
 * IPV6_V6ONLY.
 * Restricts an IPv6 socket to IPv6: `[::]:80` no longer takes IPv4 connections, and binding a
 * v4-mapped address (::ffff:a.b.c.d) fails with EINVAL. An IPv4 socket fails with ENOPROTOOPT. ipv6(7).
 */
export function setIpv6Only(fd: number, on: boolean): Result<void> {
  return setFlag(fd, 'IPPROTO_IPV6', 'IPV6_V6ONLY', on);
}

/** IPV6_V6ONLY: whether it is set. ipv6(7). */
export function ipv6Only(fd: number): Result<boolean> {
  return getFlag(fd, 'IPPROTO_IPV6', 'IPV6_V6ONLY');
}
