// Parsing of addresses, ports and HOST:PORT targets as they arrive from configuration. A bad value is
// a `{ ok: false, reason }` a person can act on, never an exception; only a wrong *type* (a number
// where a string belongs) throws a TypeError, because that is a bug in the caller, not bad input.
import { isIP } from 'node:net';
import { loadBinding } from '../binding.js';
import { formatIp, isLinkLocalV6, mappedV4, parseIp, type Ip } from '../model/ip.js';
import type { Family } from '../types.js';

/** The outcome of parsing: the value, or why the input is not usable (cause `invalid-address`). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** An IP address ready to be bound or connected to. */
export interface ParsedHost {
  /** Canonical text without the scope: 'fd00::1', '::ffff:1.2.3.4', '10.0.0.50'. */
  address: string;
  family: Family;
  /**
   * The interface index of `%eth0` or `%3`. Absent when no scope was written, and for a named scope
   * when the addon is unavailable (the name is still in `interface`).
   */
  scopeId?: number;
  /** The interface named by the scope: `eth0` of `%eth0`, or the name of index 3 for `%3`. */
  interface?: string;
  /** The IPv4 address inside a v4-mapped IPv6 address (`::ffff:1.2.3.4` → '1.2.3.4'). */
  mapped?: string;
  /** fe80::/10: the kernel refuses to bind it (EINVAL) without a scope id. */
  linkLocal: boolean;
  /** The address as bytes (lib/model), without its scope: what the diagnosis compares. */
  ip: Ip;
}

/** A HOST:PORT target. Connect targets may name a host; bind targets need `kind: 'address'`. */
export type Target =
  | { kind: 'address'; host: string; port: number; address: ParsedHost }
  | { kind: 'name'; host: string; port: number };

/** A socket address as lib/sys binds and connects it. `scopeId` only for IPv6. */
export interface SockAddr {
  address: string;
  port: number;
  family: Family;
  scopeId?: number;
}

const MAX_IFNAME = 15; // IFNAMSIZ - 1

function requireString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new TypeError(`safebind: ${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
}

/** No address, host name or HOST:PORT target is longer (a host name has at most 253 characters). */
const MAX_TEXT = 300;
/** Shown of a value in a reason: enough to recognise it, never a whole 100 MB string. */
const QUOTED_MAX = 64;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * `value` in double quotes, control characters escaped (JSON rules), cut to 64 characters with '…':
 * how every reason shows the value it refuses, so a reason stays one short line.
 */
export function quoteValue(value: string): string {
  return JSON.stringify(value.length > QUOTED_MAX ? `${value.slice(0, QUOTED_MAX)}…` : value);
}

/**
 * Why `input` cannot be an address, host name or target at all: empty, a NUL byte (C would read
 * only what comes before it: 'lo\0evil' is 'lo'), whitespace, another control character, or longer
 * than any of them can be. One check for every entry point, before any parsing.
 */
function textProblem(input: string, what: string): string | undefined {
  if (input.length === 0) return `the ${what} is empty`;
  if (input.length > MAX_TEXT) {
    return `the ${what} is ${input.length} characters long: no address, host name or target has more than ${MAX_TEXT}`;
  }
  if (input.includes('\0')) return `${quoteValue(input)} contains a NUL byte`;
  if (/\s/.test(input)) return `${quoteValue(input)} contains whitespace`;
  if (CONTROL.test(input)) return `${quoteValue(input)} contains a control character`;
  return undefined;
}

/**
 * Why `name` cannot be a Linux interface name, or undefined. The kernel's dev_valid_name() allows
 * 1 to 15 bytes (IFNAMSIZ - 1), not '.' or '..', with no '/', ':' or whitespace; a NUL byte would cut
 * the name short in the syscall ('lo\0evil' is 'lo'), so it and every other control character are
 * refused too. The one check of SO_BINDTODEVICE names and of '%zone' scopes.
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'an interface name is never empty';
  if (name.includes('\0')) return 'it contains a NUL byte';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IFNAME) return `it is ${bytes} bytes long, and an interface name has at most ${MAX_IFNAME}`;
  if (/[\s/:]/.test(name)) return 'an interface name has no "/", ":" or whitespace';
  if (CONTROL.test(name)) return 'it contains a control character';
  if (name === '.' || name === '..') return `"${name}" is reserved`;
  return undefined;
}

/** Why a dotted-decimal that looks like IPv4 is not one, in the words a person needs. */
function ipv4Detail(text: string): string | undefined {
  const parts = text.split('.');
  if (!parts.every((p) => /^\d+$/.test(p))) return undefined;
  if (parts.length !== 4) return `an IPv4 address has 4 parts, not ${parts.length}`;
  for (const part of parts) {
    if (Number(part) > 255) return `${part} is greater than 255`;
    if (part.length > 1 && part.startsWith('0')) return `${part} has a leading zero`;
  }
  return undefined;
}

function notAnAddress(text: string): string {
  const detail = ipv4Detail(text);
  if (detail) return `${quoteValue(text)} is not an IPv4 or IPv6 address: ${detail}`;
  if (isHostName(text)) {
    return `${quoteValue(text)} is not an IPv4 or IPv6 address (a host name cannot be bound; give an address)`;
  }
  return `${quoteValue(text)} is not an IPv4 or IPv6 address`;
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens; not all-numeric. */
export function isHostName(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  // A last label of digits only is a mistyped IPv4 address, not a name (RFC 3696, section 2).
  return !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

function interfacesHint(): string {
  const load = loadBinding();
  if (!load.ok) return '';
  const list = load.binding.interfaces();
  if (typeof list === 'number') return '';
  return ` (interfaces here: ${list.map((i) => `${i.name} ${i.index}`).join(', ')})`;
}

function resolveScope(zone: string, text: string): Parsed<{ scopeId?: number; interface?: string }> {
  if (zone.length === 0) return { ok: false, reason: `${quoteValue(text)} has an empty scope after "%"` };
  const load = loadBinding();
  if (/^\d+$/.test(zone)) {
    const index = Number(zone);
    if (index === 0 || index > 0xffffffff) {
      return { ok: false, reason: `${quoteValue(text)}: scope id ${zone} names no interface` };
    }
    if (!load.ok) return { ok: true, value: { scopeId: index } };
    const name = load.binding.ifIndexToName(index);
    if (typeof name === 'number') {
      return {
        ok: false,
        reason: `${quoteValue(text)}: no interface has index ${index}${interfacesHint()}`,
      };
    }
    return { ok: true, value: { scopeId: index, interface: name } };
  }
  const badName = interfaceNameProblem(zone);
  if (badName !== undefined) {
    return {
      ok: false,
      reason: `${quoteValue(text)}: ${quoteValue(zone)} cannot be an interface name: ${badName}`,
    };
  }
  if (!load.ok) return { ok: true, value: { interface: zone } };
  const index = load.binding.ifNameToIndex(zone);
  if (index <= 0) {
    return { ok: false, reason: `${quoteValue(text)}: no interface named "${zone}"${interfacesHint()}` };
  }
  return { ok: true, value: { scopeId: index, interface: zone } };
}

/**
 * Parses an IP address as written in configuration: `1.2.3.4`, `fd00::1`, `fe80::1%eth0`,
 * `fe80::1%3`, `::ffff:1.2.3.4` (brackets around IPv6 are accepted and dropped). A scope names an
 * interface of the calling thread's network namespace, checked with if_nametoindex(3); an unknown one
 * is a failure that lists the interfaces there are.
 */
export function parseHost(input: string): Parsed<ParsedHost> {
  requireString(input, 'host');
  const blank = textProblem(input, 'address');
  if (blank) return { ok: false, reason: blank };
  const text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const percent = text.indexOf('%');
  const bare = percent < 0 ? text : text.slice(0, percent);
  const zone = percent < 0 ? undefined : text.slice(percent + 1);
  // The one parse of the address (lib/model); text with spaces or brackets left inside is no address.
  const ip = bare.trim() === bare && !bare.includes('[') ? parseIp(bare) : undefined;
  if (ip === undefined) return { ok: false, reason: notAnAddress(bare) };
  if (ip.family === 4) {
    if (zone !== undefined) {
      return {
        ok: false,
        reason: `${quoteValue(input)}: a scope (%${zone}) applies only to IPv6 addresses`,
      };
    }
    return { ok: true, value: { address: bare, family: 4, linkLocal: false, ip } };
  }
  const value: ParsedHost = { address: formatIp(ip), family: 6, linkLocal: isLinkLocalV6(ip), ip };
  const mapped = mappedV4(ip);
  if (mapped !== undefined) value.mapped = formatIp(mapped);
  if (zone !== undefined) {
    const scope = resolveScope(zone, input);
    if (!scope.ok) return scope;
    if (scope.value.scopeId !== undefined) value.scopeId = scope.value.scopeId;
    if (scope.value.interface !== undefined) value.interface = scope.value.interface;
  }
  return { ok: true, value };
}

/**
 * Parses a port: an integer 0–65535, or a string of decimal digits ('8080') because configuration
 * files and environment variables deliver text. Signs, spaces, '0x50', '1e3' and fractions are
 * refused. Port 0 is accepted: for bind it means "any free port".
 */
export function parsePort(input: number | string): Parsed<number> {
  if (typeof input === 'string') {
    if (!/^\d+$/.test(input)) return { ok: false, reason: `port ${quoteValue(input)} is not a number` };
    return parsePort(Number(input));
  }
  if (typeof input !== 'number') {
    throw new TypeError(
      `safebind: port must be a number or a string, got ${input === null ? 'null' : typeof input}`,
    );
  }
  if (!Number.isInteger(input)) return { ok: false, reason: `port ${input} is not an integer` };
  if (input < 0 || input > 65535) return { ok: false, reason: `port ${input} is out of range 0-65535` };
  return { ok: true, value: input };
}

/**
 * Why a target with several ':' and no brackets is refused, with the spelling to use: only a
 * bracketed IPv6 address says where the address ends and the port begins.
 */
function colonsProblem(input: string, colon: number): string {
  const before = input.slice(0, colon);
  const port = input.slice(colon + 1);
  const [address = '', zone] = input.split('%');
  const whole = isIP(address) === 6 && !(zone ?? '').includes(':');
  const split = isIP(before.split('%')[0] ?? '') === 6 && /^\d+$/.test(port);
  if (split && whole)
    return `is ambiguous: write an IPv6 address in brackets, as [${before}]:${port}, or [${input}]:PORT`;
  if (split) return `is ambiguous: write an IPv6 address in brackets, as [${before}]:${port}`;
  if (whole) return `is an IPv6 address without a port: write [${input}]:PORT`;
  return 'has more than one ":" and is no IPv6 address: write HOST:PORT, or [IPV6]:PORT';
}

/**
 * Parses `10.0.0.50:8080`, `[fd00::1]:443`, `[fe80::1%eth0]:80` or `host.name:80`. IPv6 needs
 * brackets: `::1:80` is refused as ambiguous rather than guessed. A name is returned as
 * `kind: 'name'` (only connect targets may use one); a string of digits and dots that is not a
 * valid IPv4 address is refused, not taken for a name. `use` says what the target is for, so that a
 * reason tells a connect target what it needs (a host and a port), never the wildcard of a bind.
 */
export function parseTarget(input: string, use: 'bind' | 'connect' = 'bind'): Parsed<Target> {
  requireString(input, 'target');
  const blank = textProblem(input, 'target');
  if (blank) return { ok: false, reason: blank };
  const quoted = quoteValue(input);
  let host: string;
  let portText: string;
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0) return { ok: false, reason: `${quoted} has "[" without a closing "]"` };
    host = input.slice(1, close);
    const rest = input.slice(close + 1);
    if (rest === '' || rest === ':') {
      return { ok: false, reason: `${quoted} has no port: write [${host}]:PORT` };
    }
    if (!rest.startsWith(':')) return { ok: false, reason: `${quoted}: expected ":PORT" after "]"` };
    portText = rest.slice(1);
    if (host === '') return { ok: false, reason: `${quoted} has no address inside the brackets` };
  } else {
    const colon = input.lastIndexOf(':');
    if (colon < 0) return { ok: false, reason: `${quoted} has no port: write HOST:PORT, or [IPV6]:PORT` };
    if (input.includes(']')) return { ok: false, reason: `${quoted} has "]" without an opening "["` };
    if (input.indexOf(':') !== colon)
      return { ok: false, reason: `${quoted} ${colonsProblem(input, colon)}` };
    host = input.slice(0, colon);
    portText = input.slice(colon + 1);
    if (host === '') {
      return {
        ok: false,
        reason:
          use === 'connect'
            ? `${quoted} has no host: a connect target needs the host name or address to reach and a port, e.g. db.internal${input} or 10.0.0.7${input}`
            : `${quoted} has no host: write 0.0.0.0${input} or [::]${input} for every address`,
      };
    }
    if (portText === '') return { ok: false, reason: `${quoted} has no port after ":"` };
  }
  const port = parsePort(portText);
  if (!port.ok) return { ok: false, reason: `${quoted}: ${port.reason}` };
  // Parsed once: an unscoped, unbracketed host that is no address goes on to be read as a name.
  const bracketed = input.startsWith('[');
  const scoped = host.includes('%');
  const parsed = bracketed || !scoped || isIP(host.split('%')[0] ?? '') !== 0 ? parseHost(host) : undefined;
  if (parsed !== undefined && (parsed.ok || bracketed || scoped)) {
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    if (input.startsWith('[') && parsed.value.family === 4) {
      return { ok: false, reason: `${quoted}: brackets are for IPv6 addresses; write ${host}:${port.value}` };
    }
    return { ok: true, value: { kind: 'address', host, port: port.value, address: parsed.value } };
  }
  if (isHostName(host)) return { ok: true, value: { kind: 'name', host, port: port.value } };
  const detail = ipv4Detail(host);
  if (detail) return { ok: false, reason: `${quoteValue(host)} is not an IPv4 or IPv6 address: ${detail}` };
  return { ok: false, reason: `${quoteValue(host)} is not an IP address or a host name` };
}

/** A destination as connect takes it: an IP address, or a host name still to be resolved. */
export type Destination = { kind: 'address'; address: ParsedHost } | { kind: 'name'; host: string };

/**
 * Parses the host of a destination (safeConnect, portUsage, preflight connect targets): an address
 * as {@link parseHost} reads it, or an RFC 1123 host name. Anything else fails with the reason of
 * parseHost: it is never handed to the resolver, which would read '127.0.0.1\0…' as 127.0.0.1.
 */
export function parseDestination(input: string): Parsed<Destination> {
  const parsed = parseHost(input);
  if (parsed.ok) return { ok: true, value: { kind: 'address', address: parsed.value } };
  if (isHostName(input)) return { ok: true, value: { kind: 'name', host: input } };
  return parsed;
}

/** The sentence for a destination port of 0, the same at every entry point. */
export const PORT_ZERO_DESTINATION = 'port 0 cannot be connected to: give the destination port';

/** Parses a destination port: as {@link parsePort}, but 0 (which only a bind can ask for) is refused. */
export function parseDestinationPort(input: number | string): Parsed<number> {
  const port = parsePort(input);
  if (port.ok && port.value === 0) return { ok: false, reason: PORT_ZERO_DESTINATION };
  return port;
}

/** The socket address of a parsed host and port, scope id included when there is one. */
export function sockAddr(host: ParsedHost, port: number): SockAddr {
  const addr: SockAddr = { address: host.address, port, family: host.family };
  if (host.scopeId !== undefined) addr.scopeId = host.scopeId;
  return addr;
}

/** `fe80::1%eth0` for a scoped address, else the address: how people and `ip` write it. */
export function formatHost(host: ParsedHost): string {
  if (host.interface !== undefined) return `${host.address}%${host.interface}`;
  if (host.scopeId !== undefined) return `${host.address}%${host.scopeId}`;
  return host.address;
}

/** `10.0.0.50:8080` or `[fd00::1]:443`: the target form parseTarget reads back. */
export function formatTarget(address: string, port: number): string {
  return isIP(address.split('%')[0] ?? '') === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
