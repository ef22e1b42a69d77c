// Checks the options of safeBind and safeListen as they arrive: a wrong type throws a TypeError (a
// bug in the caller); a bad value from configuration (an unparseable address, port 70000, an
// impossible interface name) becomes the reason of an `invalid-address` failure. No socket is made here.
import type { Attempt } from '../diagnose/input.js';
import {
  interfaceNameProblem,
  parseHost,
  parsePort,
  quoteValue,
  SOCKET_OPTIONS,
  type OptionName,
  type Parsed,
  type ParsedHost,
  type SocketOptions,
} from '../sys/index.js';
import type { Protocol } from '../types.js';
import { requireSignal } from './abort-error.js';

/**
 * What safeBind (and safeListen, and a preflight bind target) binds, and with which socket options.
 * Option names after socket2; see DESIGN.md. Options left out are not set on the socket, except
 * `reuseAddress`, which follows Node's default.
 */
export interface BindOptions {
  /**
   * An IP address: '10.0.0.50', '::', 'fd00::1', 'fe80::1%eth0' (a link-local IPv6 address needs its
   * '%interface'). Host names are refused with cause `invalid-address`: a bind needs an address.
   */
  host: string;
  /** The port, 0-65535. 0 lets the kernel choose a free port; the chosen one is in `BoundSocket.port`. */
  port: number;
  /** 'tcp' (default) or 'udp'. */
  protocol?: Protocol;
  /**
   * IP_FREEBIND (IPPROTO_IP) for IPv4, IPV6_FREEBIND (IPPROTO_IPV6) for IPv6: bind an address that
   * is not (yet) on an interface. The socket receives nothing until the address is attached. Off by
   * default.
   */
  freebind?: boolean;
  /**
   * SO_REUSEADDR (SOL_SOCKET): bind a port still held by TIME_WAIT connections (never one a listener
   * holds). Defaults to true for TCP, as Node and libuv do, and false for UDP.
   */
  reuseAddress?: boolean;
  /**
   * SO_REUSEPORT (SOL_SOCKET): several sockets of the same user bind the same address and port, and
   * the kernel spreads connections or datagrams across them. Every socket of the group must set it.
   * Off by default.
   */
  reusePort?: boolean;
  /**
   * IPV6_V6ONLY (IPPROTO_IPV6): true makes an IPv6 socket IPv6 only; false lets '::' also accept
   * IPv4 (as IPv4-mapped addresses). Ignored for IPv4. Unset leaves the system default
   * (net.ipv6.bindv6only).
   */
  ipv6Only?: boolean;
  /**
   * SO_BINDTODEVICE (SOL_SOCKET): send and receive only through this interface ('eth0'). A name that
   * cannot be an interface name (empty, 16 bytes or more, '/', ':', whitespace, NUL) fails with cause
   * `invalid-address` before any system call; a name that is no interface fails at setsockopt
   * (ENODEV).
   */
  device?: string;
  /**
   * Milliseconds to wait for the address to become bindable (a VIP, a DHCP lease, IPv6 DAD): only a
   * bind EADDRNOTAVAIL is waited for. 0 (default) does not wait; Infinity waits without a limit.
   */
  waitForAddress?: number;
  /**
   * Aborts the call, the wait included: the promise then rejects with an AbortError, as Node's own
   * operations do.
   */
  signal?: AbortSignal;
}

/**
 * Internal, never exported from the package: a bind target the CLI has already parsed, carried on a
 * BindOptions object under this symbol — the parsed host, and the text to label the check with —
 * so preflight does not parse it again.
 */
export const PARSED_TARGET = Symbol('safebind.parsedTarget');

/** BindOptions with the CLI's parse attached; see PARSED_TARGET. */
export type ParsedBindOptions = BindOptions & { [PARSED_TARGET]?: { host: ParsedHost; label?: string } };

/** BindOptions checked and parsed, with the defaults applied. */
export interface BindPlan {
  host: ParsedHost;
  port: number;
  protocol: Protocol;
  /** The options set on the socket, by their name in the option table (lib/sys/options.ts). */
  socketOptions: SocketOptions;
  waitForAddress: number;
  signal: AbortSignal | undefined;
  /** The socket options as the diagnosis records them (reuseAddress always, as it has a default). */
  options: Attempt['options'];
}

/** The socket options BindOptions exposes: names of the option table, checked by its types. */
const BIND_SOCKET_OPTIONS = [
  'freebind',
  'reuseAddress',
  'reusePort',
  'ipv6Only',
  'device',
] as const satisfies readonly (keyof BindOptions & OptionName)[];

export type Checked =
  | { ok: true; plan: BindPlan }
  | { ok: false; reason: string; failure: Omit<Attempt, 'error' | 'invalid'> };

function optionalType(value: unknown, type: 'boolean' | 'string' | 'number', name: string, where: string) {
  if (value !== undefined && typeof value !== type) {
    throw new TypeError(`${where}: ${name} must be a ${type}, got ${value === null ? 'null' : typeof value}`);
  }
}

/** Throws unless `ms` is absent or a number of milliseconds >= 0 (Infinity waits without a limit). */
export function requireDuration(ms: unknown, name: string, where: string): void {
  optionalType(ms, 'number', name, where);
  if (typeof ms === 'number' && (Number.isNaN(ms) || ms < 0)) {
    throw new TypeError(`${where}: ${name} must be a number of milliseconds >= 0, got ${ms}`);
  }
}

/** Why `name` cannot be the device of SO_BINDTODEVICE (see interfaceNameProblem), or undefined. */
export function deviceNameProblem(name: string): string | undefined {
  const problem = interfaceNameProblem(name);
  return problem === undefined
    ? undefined
    : `device ${quoteValue(name)} cannot be an interface name: ${problem}`;
}

/**
 * Checks and parses BindOptions. `forced` is the protocol a server imposes (safeListen on a
 * net.Server is TCP, on a dgram.Socket UDP). `parsedHost` is `host` already parsed at the edge (a
 * preflight target): it is used as is, not parsed again.
 */
export function checkBindOptions(
  opts: unknown,
  where: string,
  forced?: Protocol,
  parsedHost?: ParsedHost,
): Checked {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${where} takes { host, port, … }`);
  const o = opts as Record<string, unknown>;
  if (typeof o.host !== 'string') {
    throw new TypeError(`${where}: host must be a string, got ${o.host === null ? 'null' : typeof o.host}`);
  }
  if (typeof o.port !== 'number') {
    throw new TypeError(`${where}: port must be a number, got ${o.port === null ? 'null' : typeof o.port}`);
  }
  if (o.protocol !== undefined && o.protocol !== 'tcp' && o.protocol !== 'udp') {
    throw new TypeError(`${where}: protocol must be 'tcp' or 'udp', got ${String(o.protocol)}`);
  }
  for (const name of BIND_SOCKET_OPTIONS) {
    optionalType(o[name], SOCKET_OPTIONS[name].type as 'boolean' | 'string', name, where);
  }
  requireDuration(o.waitForAddress, 'waitForAddress', where);
  requireSignal(o.signal, where);
  if (forced !== undefined && o.protocol !== undefined && o.protocol !== forced) {
    throw new TypeError(`${where}: this server is ${forced.toUpperCase()}, but protocol is '${o.protocol}'`);
  }

  const protocol: Protocol = forced ?? (o.protocol as Protocol | undefined) ?? 'tcp';
  const asked = o as Pick<BindOptions, (typeof BIND_SOCKET_OPTIONS)[number]>;
  const reuseAddress = asked.reuseAddress ?? protocol === 'tcp';
  const options: Attempt['options'] = {};
  for (const name of BIND_SOCKET_OPTIONS) {
    const value = name === 'reuseAddress' ? reuseAddress : asked[name];
    if (value !== undefined) options[name] = value as never;
  }
  // Set on the socket: what was asked for, where "off" is the kernel's default and needs no call.
  const socketOptions: SocketOptions = {};
  if (reuseAddress) socketOptions.reuseAddress = true;
  if (asked.reusePort === true) socketOptions.reusePort = true;
  if (asked.ipv6Only !== undefined) socketOptions.ipv6Only = asked.ipv6Only;
  if (asked.freebind === true) socketOptions.freebind = true;
  if (asked.device !== undefined) socketOptions.device = asked.device;
  const given = { operation: 'bind' as const, protocol, local: { host: o.host, port: o.port }, options };

  const host: Parsed<ParsedHost> = parsedHost ? { ok: true, value: parsedHost } : parseHost(o.host);
  if (!host.ok) return { ok: false, reason: host.reason, failure: given };
  const port = parsePort(o.port);
  if (!port.ok) return { ok: false, reason: port.reason, failure: given };
  const device = o.device as string | undefined;
  const badDevice = device === undefined ? undefined : deviceNameProblem(device);
  if (badDevice !== undefined) return { ok: false, reason: badDevice, failure: given };

  return {
    ok: true,
    plan: {
      host: host.value,
      port: port.value,
      protocol,
      socketOptions,
      waitForAddress: (o.waitForAddress as number | undefined) ?? 0,
      signal: o.signal as AbortSignal | undefined,
      options,
    },
  };
}

/** The Attempt of a bind made with this plan (the diagnosis's view of what was attempted). */
export function bindFailure(plan: BindPlan, operation: 'bind' | 'listen' = 'bind'): Omit<Attempt, 'error'> {
  const local: NonNullable<Attempt['local']> = {
    host: plan.host.address,
    port: plan.port,
    family: plan.host.family,
  };
  if (plan.host.scopeId !== undefined) local.scopeId = plan.host.scopeId;
  if (plan.host.interface !== undefined) local.interface = plan.host.interface;
  local.ip = plan.host.ip;
  return { operation, protocol: plan.protocol, local, options: plan.options };
}
