// The one socket-option table, after socket2: each option is declared once — its constant and level,
// its value type, its doc — and that entry drives setOption/getOption, the recipe openSocket(), the
// checks of BindOptions and the options a diagnosis records. Grouped by level. Option numbers come
// from the addon's constants, never from TypeScript. The named pairs below the table (`setX(fd, …)`
// sets, the bare noun `x(fd)` reads back) are one line each over it.
import { constants as osConstants } from 'node:os';
import type { NativeBinding } from '../binding.js';
import type { Family, Result } from '../types.js';
import { errnoResult, native } from './errors.js';
import { requireFamily, requireFd } from './checks.js';

type Level = 'SOL_SOCKET' | 'IPPROTO_IP' | 'IPPROTO_IPV6';
/** An option constant the addon exports (native/binding.cc Constants). */
type Constant = Extract<keyof NativeBinding['constants'], `SO_${string}` | `IP_${string}` | `IPV6_${string}`>;

/** What the table knows of one option: how to set it, how to read it back, what a value must be. */
export interface OptionSpec<T> {
  /** The constant, as error messages name it: 'SO_REUSEADDR'. */
  constant: string;
  /** `typeof` of a value the option takes, for the TypeError of a wrong one. */
  type: 'boolean' | 'number' | 'string' | 'object';
  /** Only sockets of these families take it (IPV6_V6ONLY); openSocket skips it on the others. */
  families?: readonly Family[];
  /** Throws the TypeError of a value the option cannot take. */
  check(value: unknown): asserts value is T;
  /** The setsockopt; 0 or -errno. */
  set(b: NativeBinding, fd: number, family: Family, value: T): number;
  /** The getsockopt: the value, or -errno as a number. */
  get(b: NativeBinding, fd: number, family: Family): { value: T } | number;
  /** The constant on a socket of `family`, where it differs per family. */
  constantFor?(family: Family): string;
  /** The words after the code in a failed setsockopt's message; the constant by default. */
  detail?(value: T): string;
}

function requireBool(on: unknown): asserts on is boolean {
  if (typeof on !== 'boolean') throw new TypeError(`safebind: expected a boolean, got ${String(on)}`);
}

/** A boolean option: an int 0/1 at (level, constant). */
function flag(level: Level, constant: Constant): OptionSpec<boolean> {
  return {
    constant,
    type: 'boolean',
    check: requireBool,
    set: (b, fd, _family, on) => b.setIntOption(fd, b.constants[level], b.constants[constant], on ? 1 : 0),
    get(b, fd) {
      const rc = b.getIntOption(fd, b.constants[level], b.constants[constant]);
      return rc < 0 ? rc : { value: rc !== 0 };
    },
  };
}

/** A non-negative int option at (level, constant). */
function int(level: Level, constant: Constant): OptionSpec<number> {
  return {
    constant,
    type: 'number',
    check(value) {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0x7fffffff)
        throw new TypeError(`safebind: ${constant} must be a non-negative integer, got ${String(value)}`);
    },
    set: (b, fd, _family, value) => b.setIntOption(fd, b.constants[level], b.constants[constant], value),
    get(b, fd) {
      const rc = b.getIntOption(fd, b.constants[level], b.constants[constant]);
      return rc < 0 ? rc : { value: rc };
    },
  };
}

/**
 * One meaning, one constant per family. The IPv6 socket falls back to the IPv4 constant where the
 * kernel answers ENOPROTOOPT (IPV6_FREEBIND arrived in 4.15; IP_FREEBIND was honoured for IPv6 before).
 */
function perFamily(v4: OptionSpec<boolean>, v6: OptionSpec<boolean>): OptionSpec<boolean> {
  const ENOPROTOOPT = -osConstants.errno.ENOPROTOOPT;
  return {
    constant: `${v4.constant} / ${v6.constant}`,
    type: 'boolean',
    check: requireBool,
    constantFor: (family) => (family === 4 ? v4.constant : v6.constant),
    set(b, fd, family, on) {
      if (family === 4) return v4.set(b, fd, 4, on);
      const rc = v6.set(b, fd, 6, on);
      return rc === ENOPROTOOPT ? v4.set(b, fd, 4, on) : rc;
    },
    get(b, fd, family) {
      if (family === 4) return v4.get(b, fd, 4);
      const got = v6.get(b, fd, 6);
      return got === ENOPROTOOPT ? v4.get(b, fd, 4) : got;
    },
  };
}

/**
 * Every option lib/sys sets, in the order openSocket() applies them. Adding an option is one entry
 * here and one line in test/sys/option-round-trips.test.ts.
 */
export const SOCKET_OPTIONS = {
  // --- SOL_SOCKET ---------------------------------------------------------------------------------

  /**
   * SO_REUSEADDR. Lets bind() take a local port still held by TIME_WAIT connections (never one held
   * by a listener). socket(7).
   */
  reuseAddress: flag('SOL_SOCKET', 'SO_REUSEADDR'),
  /**
   * SO_REUSEPORT. Lets several sockets of the same user bind the same address and port; the kernel
   * spreads incoming connections or datagrams across them. Every socket of the group must set it
   * before bind. socket(7).
   */
  reusePort: flag('SOL_SOCKET', 'SO_REUSEPORT'),
  /**
   * SO_RCVBUF. The receive buffer in bytes: the kernel doubles the value asked (for its bookkeeping)
   * and caps it at net.core.rmem_max. A UDP server that drops bursts wants a larger one. socket(7).
   */
  recvBufferSize: int('SOL_SOCKET', 'SO_RCVBUF'),

  // --- IPPROTO_IPV6 -------------------------------------------------------------------------------

  /**
   * IPV6_V6ONLY. Restricts an IPv6 socket to IPv6: `[::]:80` no longer takes IPv4 connections, and
   * binding a v4-mapped address (::ffff:a.b.c.d) fails with EINVAL. An IPv4 socket fails with
   * ENOPROTOOPT (openSocket skips it there). ipv6(7).
   */
  ipv6Only: { ...flag('IPPROTO_IPV6', 'IPV6_V6ONLY'), families: [6] as const },

  // --- IPPROTO_IP (most also apply to IPv6 sockets) -----------------------------------------------

  /**
   * IP_FREEBIND (IPv4) or IPV6_FREEBIND (IPv6). Lets bind() take an address that is on no interface
   * yet (a VIP, an address still in DAD); traffic flows once it is attached. ip(7), ipv6(7).
   */
  freebind: perFamily(flag('IPPROTO_IP', 'IP_FREEBIND'), flag('IPPROTO_IPV6', 'IPV6_FREEBIND')),
  /**
   * IP_BIND_ADDRESS_NO_PORT. bind(ip, 0) fixes only the source address and leaves the port to
   * connect(), which can then share ports across destinations (the pool is per 4-tuple). For both
   * families. ip(7).
   */
  bindAddressNoPort: flag('IPPROTO_IP', 'IP_BIND_ADDRESS_NO_PORT'),
  /**
   * IP_TRANSPARENT. Lets the socket bind and answer for any address, for transparent proxying
   * (TPROXY). Needs CAP_NET_ADMIN (or CAP_NET_RAW): without it, EPERM. ip(7).
   */
  transparent: flag('IPPROTO_IP', 'IP_TRANSPARENT'),

  // --- options with a value of their own shape ----------------------------------------------------

  /**
   * SO_BINDTODEVICE. Sends and receives only through the named interface; '' removes the binding. A
   * name that is no interface fails with ENODEV. socket(7).
   */
  device: {
    constant: 'SO_BINDTODEVICE',
    type: 'string',
    check(name: unknown): asserts name is string {
      if (typeof name !== 'string')
        throw new TypeError(`safebind: device must be a string, got ${typeof name}`);
    },
    set: (b, fd, _family, name) => b.setDevice(fd, name),
    get(b, fd) {
      const rc = b.getDevice(fd);
      return typeof rc === 'number' ? rc : { value: rc };
    },
    detail: (name) => `SO_BINDTODEVICE ${name}`,
  } satisfies OptionSpec<string>,
  /**
   * SO_LINGER. `seconds` to wait for unsent data at close; 0 makes close() send RST and skip
   * TIME_WAIT; `null` turns lingering off (the default). socket(7).
   */
  linger: {
    constant: 'SO_LINGER',
    type: 'number',
    check(seconds: unknown): asserts seconds is number | null {
      if (seconds !== null && (!Number.isInteger(seconds) || (seconds as number) < 0)) {
        throw new TypeError(
          `safebind: linger seconds must be a non-negative integer or null, got ${String(seconds)}`,
        );
      }
    },
    set: (b, fd, _family, seconds) => b.setLinger(fd, seconds !== null, seconds ?? 0),
    get(b, fd) {
      const rc = b.getLinger(fd);
      return typeof rc === 'number' ? rc : { value: rc.on ? rc.seconds : null };
    },
  } satisfies OptionSpec<number | null>,
  /**
   * IP_LOCAL_PORT_RANGE. Narrows the ephemeral ports this socket may pick to [lo, hi] within
   * net.ipv4.ip_local_port_range; [0, 0] returns to the system range. Linux 6.3+; older kernels fail
   * with ENOPROTOOPT. ip(7).
   */
  localPortRange: {
    constant: 'IP_LOCAL_PORT_RANGE',
    type: 'object',
    check(range: unknown): asserts range is readonly [number, number] {
      for (const p of range as number[]) {
        if (!Number.isInteger(p) || p < 0 || p > 65535) {
          throw new TypeError(`safebind: local port range bounds must be integers 0-65535, got ${String(p)}`);
        }
      }
    },
    set: (b, fd, _family, [lo, hi]) => b.setLocalPortRange(fd, lo, hi),
    get(b, fd) {
      const rc = b.getLocalPortRange(fd);
      return typeof rc === 'number' ? rc : { value: rc };
    },
  } satisfies OptionSpec<readonly [number, number]>,
} as const;

/** The name of an option of the table: 'reuseAddress', 'freebind', … */
export type OptionName = keyof typeof SOCKET_OPTIONS;
/** The value type of option `K`. */
export type OptionValue<K extends OptionName> =
  (typeof SOCKET_OPTIONS)[K] extends OptionSpec<infer T> ? T : never;
/** Option values by name, as openSocket() takes them and a diagnosis records them. */
export type SocketOptions = { [K in OptionName]?: OptionValue<K> };

function spec<K extends OptionName>(name: K): OptionSpec<OptionValue<K>> {
  return SOCKET_OPTIONS[name] as unknown as OptionSpec<OptionValue<K>>;
}

/** setsockopt(2) of option `name` from the table; `family` picks the constant where it differs. */
export function setOption<K extends OptionName>(
  fd: number,
  family: Family,
  name: K,
  value: OptionValue<K>,
): Result<void> {
  requireFd(fd);
  requireFamily(family);
  const s: OptionSpec<OptionValue<K>> = spec(name);
  s.check(value);
  const n = native();
  if (!n.ok) return n;
  const rc = s.set(n.binding, fd, family, value);
  if (rc >= 0) return { ok: true, value: undefined };
  return errnoResult('setsockopt', rc, {
    detail: s.detail?.(value) ?? s.constantFor?.(family) ?? s.constant,
  });
}

/** getsockopt(2) of option `name` from the table. */
export function getOption<K extends OptionName>(fd: number, family: Family, name: K): Result<OptionValue<K>> {
  requireFd(fd);
  requireFamily(family);
  const s = spec(name);
  const n = native();
  if (!n.ok) return n;
  const got = s.get(n.binding, fd, family);
  if (typeof got === 'number') {
    return errnoResult('getsockopt', got, { detail: s.constantFor?.(family) ?? s.constant });
  }
  return { ok: true, value: got.value };
}

// --- the named pairs, socket2's method names -------------------------------------------------------
// Options whose constant does not depend on the family read and set it the same on either socket: 4
// stands for "any".

/** SO_REUSEADDR on or off; see SOCKET_OPTIONS.reuseAddress. socket(7). */
export const setReuseAddress = (fd: number, on: boolean) => setOption(fd, 4, 'reuseAddress', on);
/** SO_REUSEADDR: whether it is set. socket(7). */
export const reuseAddress = (fd: number) => getOption(fd, 4, 'reuseAddress');
/** SO_REUSEPORT on or off; see SOCKET_OPTIONS.reusePort. socket(7). */
export const setReusePort = (fd: number, on: boolean) => setOption(fd, 4, 'reusePort', on);
/** SO_REUSEPORT: whether it is set. socket(7). */
export const reusePort = (fd: number) => getOption(fd, 4, 'reusePort');
/** SO_BINDTODEVICE to the interface, '' to remove it; see SOCKET_OPTIONS.device. socket(7). */
export const setDevice = (fd: number, name: string) => setOption(fd, 4, 'device', name);
/** SO_BINDTODEVICE: the interface the socket is bound to, '' when none. socket(7). */
export const device = (fd: number) => getOption(fd, 4, 'device');
/** SO_LINGER in seconds, or null for off; see SOCKET_OPTIONS.linger. socket(7). */
export const setLinger = (fd: number, seconds: number | null) => setOption(fd, 4, 'linger', seconds);
/** SO_LINGER: the linger time in seconds, or `null` when off. socket(7). */
export const linger = (fd: number) => getOption(fd, 4, 'linger');
/** IP_FREEBIND / IPV6_FREEBIND per the family; see SOCKET_OPTIONS.freebind. ip(7), ipv6(7). */
export const setFreebind = (fd: number, family: Family, on: boolean) => setOption(fd, family, 'freebind', on);
/** IP_FREEBIND / IPV6_FREEBIND: whether it is set. ip(7). */
export const freebind = (fd: number, family: Family) => getOption(fd, family, 'freebind');
/** IP_BIND_ADDRESS_NO_PORT; see SOCKET_OPTIONS.bindAddressNoPort. ip(7). */
export const setBindAddressNoPort = (fd: number, on: boolean) => setOption(fd, 4, 'bindAddressNoPort', on);
/** IP_BIND_ADDRESS_NO_PORT: whether it is set. ip(7). */
export const bindAddressNoPort = (fd: number) => getOption(fd, 4, 'bindAddressNoPort');
/** IP_TRANSPARENT; see SOCKET_OPTIONS.transparent. ip(7). */
export const setTransparent = (fd: number, on: boolean) => setOption(fd, 4, 'transparent', on);
/** IP_TRANSPARENT: whether it is set. ip(7). */
export const transparent = (fd: number) => getOption(fd, 4, 'transparent');
/** IP_LOCAL_PORT_RANGE; see SOCKET_OPTIONS.localPortRange. ip(7). */
export const setLocalPortRange = (fd: number, range: readonly [number, number]) =>
  setOption(fd, 4, 'localPortRange', range);
/** IP_LOCAL_PORT_RANGE: the socket's [lo, hi]; [0, 0] when unset. ip(7). */
export const localPortRange = (fd: number) => getOption(fd, 4, 'localPortRange');
/** IPV6_V6ONLY; see SOCKET_OPTIONS.ipv6Only. An IPv4 socket fails with ENOPROTOOPT. ipv6(7). */
export const setIpv6Only = (fd: number, on: boolean) => setOption(fd, 6, 'ipv6Only', on);
/** IPV6_V6ONLY: whether it is set. ipv6(7). */
export const ipv6Only = (fd: number) => getOption(fd, 6, 'ipv6Only');
