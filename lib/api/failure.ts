// Turns what a caller has in hand — a Node error from net/http/dgram, or this library's SocketError —
// plus the context it knows, into the Attempt that diagnose reasons about.
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { Attempt } from '../diagnose/input.js';
import { isLookupSyscall } from '../diagnose/lookup.js';
import type { Protocol, SocketError } from '../types.js';

/** What the error itself may lack: the destination of a connect, the protocol, the operation. */
export interface ExplainContext {
  /** The address being bound, or the destination of a connect. */
  host?: string;
  /** The port being bound, or the destination port of a connect. */
  port?: number;
  /** The source address of an outbound connection. */
  localAddress?: string;
  /** The source port of an outbound connection, when one was asked for. */
  localPort?: number;
  /**
   * 'tcp' or 'udp'. When unset, a dgram bind error is taken for UDP by where Node made it (its
   * stack's first frame is in `node:dgram`); any other bind EADDRINUSE is checked against the TCP
   * and the UDP holders of the port: one protocol with holders decides, both are listed as such.
   */
  protocol?: Protocol;
  /**
   * What the caller was doing. When unset it follows the error's syscall; a 'bind' error counts as
   * the bind step of a connect when `localAddress` is given or `host` names another address.
   */
  operation?: 'bind' | 'listen' | 'connect';
  /** Socket options that were in force, as the diagnosis weighs them (`freebind`, `device`, …). */
  options?: {
    /** IP_FREEBIND (IPPROTO_IP) / IPV6_FREEBIND (IPPROTO_IPV6) was set: the address need not be local. */
    freebind?: boolean;
    /** SO_REUSEADDR (SOL_SOCKET) was set: TIME_WAIT holders of the port do not block the bind. */
    reuseAddress?: boolean;
    /** SO_REUSEPORT (SOL_SOCKET) was set. */
    reusePort?: boolean;
    /** IPV6_V6ONLY (IPPROTO_IPV6) as set; unset means the system default (net.ipv6.bindv6only). */
    ipv6Only?: boolean;
    /** SO_BINDTODEVICE (SOL_SOCKET): the interface the socket was bound to. */
    device?: string;
    /** IP_BIND_ADDRESS_NO_PORT (IPPROTO_IP) was set on the source of a connect. */
    bindAddressNoPort?: boolean;
  };
}

/**
 * Throws a TypeError unless `context` is absent or an ExplainContext whose fields have their types:
 * a wrong type there is a bug in the caller, and would otherwise be reasoned about as an address.
 */
export function checkExplainContext(context: unknown): asserts context is ExplainContext | undefined {
  if (context === undefined) return;
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new TypeError(
      `explain(err, context): context must be { host?, port?, localAddress?, protocol?, operation? }, got ${context === null ? 'null' : typeof context}`,
    );
  }
  const c = context as Record<string, unknown>;
  const typed = (name: string, type: 'string' | 'number' | 'object') => {
    const value = c[name];
    if (value !== undefined && (typeof value !== type || value === null)) {
      throw new TypeError(
        `explain(): context.${name} must be a${type === 'object' ? 'n' : ''} ${type}, got ${value === null ? 'null' : typeof value}`,
      );
    }
  };
  typed('host', 'string');
  typed('port', 'number');
  typed('localAddress', 'string');
  typed('localPort', 'number');
  typed('options', 'object');
  if (c.protocol !== undefined && c.protocol !== 'tcp' && c.protocol !== 'udp') {
    throw new TypeError(`explain(): context.protocol must be 'tcp' or 'udp', got ${String(c.protocol)}`);
  }
  if (c.operation !== undefined && !['bind', 'listen', 'connect'].includes(c.operation as string)) {
    throw new TypeError(
      `explain(): context.operation must be 'bind', 'listen' or 'connect', got ${String(c.operation)}`,
    );
  }
}

/** The fields of a Node system error (`ErrnoException`) that explain reads. */
interface NodeSystemErrorLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  message?: unknown;
  /** The name a failed lookup (getaddrinfo, dns.resolve*) was asked for. */
  hostname?: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Normalises a Node error or a SocketError into a SocketError (errno positive). */
export function toSocketError(err: unknown): SocketError {
  if (!isObject(err)) {
    throw new TypeError(
      `explain() takes an Error from net, http or dgram, or a SocketError; got ${err === null ? 'null' : typeof err}`,
    );
  }
  const e = err as NodeSystemErrorLike;
  let errno = typeof e.errno === 'number' ? Math.abs(e.errno) : 0;
  let code = typeof e.code === 'string' ? e.code : '';
  if (!code && errno) {
    try {
      code = getSystemErrorName(-errno);
    } catch {
      code = '';
    }
  }
  if (!errno && code) {
    // Node's errors always carry errno, but an error rebuilt from JSON may not: recover it by name.
    errno = (osConstants.errno as Record<string, number | undefined>)[code] ?? 0;
  }
  const syscall = typeof e.syscall === 'string' ? e.syscall : '';
  const out: SocketError = {
    syscall,
    errno,
    code,
    message: typeof e.message === 'string' ? e.message : `${syscall} ${code}`.trim(),
  };
  if (typeof e.address === 'string') out.address = e.address;
  // A lookup error names no address, only the name it looked up: that name is what the call was made with.
  else if (typeof e.hostname === 'string') out.address = e.hostname;
  if (typeof e.port === 'number') out.port = e.port;
  // An error a library or a user rebuilt may carry the port as text ('8080'): the same port.
  else if (typeof e.port === 'string' && /^\d{1,5}$/.test(e.port) && Number(e.port) <= 65535)
    out.port = Number(e.port);
  return out;
}

/**
 * Builds the Attempt from an error and its context. Node reports a failed `server.listen()` with
 * syscall 'listen' (the bind happens inside), and a failed `net.connect({ localAddress })` with
 * syscall 'bind' and the *source* as address: a 'bind' error is a connect's bind step when the
 * context says the operation was a connect or names a localAddress.
 */
export function toFailure(error: SocketError, context: ExplainContext = {}): Attempt {
  const protocol = context.protocol ?? 'tcp';
  const options = context.options ?? {};
  const syscall = error.syscall;
  // `net.connect({ localAddress })` fails with syscall 'bind', the source as address and no port; a
  // caller who passes the destination as { host, port } names a host other than the error's own.
  const bare = (host: string) =>
    host
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/%.*$/, '')
      .toLowerCase();
  const destinationGiven =
    context.host !== undefined && error.address !== undefined && bare(context.host) !== bare(error.address);
  // A failed lookup (getaddrinfo, dns.resolve*'s queryA…) is the first step of a connect to a name.
  const lookup = isLookupSyscall(syscall);
  const connectish =
    context.operation === 'connect' ||
    syscall === 'connect' ||
    lookup ||
    (syscall === 'bind' &&
      context.operation !== 'bind' &&
      context.operation !== 'listen' &&
      (context.localAddress !== undefined || destinationGiven));

  if (connectish) {
    const failure: Attempt = { operation: 'connect', protocol, error, options };
    const fromError = syscall === 'connect' || lookup;
    const remoteHost = fromError ? (error.address ?? context.host) : context.host;
    const remotePort = fromError ? (error.port ?? context.port) : context.port;
    if (remoteHost !== undefined && remotePort !== undefined)
      failure.remote = { host: remoteHost, port: remotePort };
    else if (remoteHost !== undefined) failure.remote = { host: remoteHost, port: 0 };
    const localHost = syscall === 'bind' ? (error.address ?? context.localAddress) : context.localAddress;
    if (localHost !== undefined) {
      failure.local = {
        host: localHost,
        port: (syscall === 'bind' ? error.port : undefined) ?? context.localPort ?? 0,
      };
    }
    return failure;
  }

  const operation = context.operation ?? (syscall === 'listen' ? 'listen' : 'bind');
  // Node reports the bind inside net.Server#listen as syscall 'listen', and that bind is libuv's own
  // (uv__tcp_bind), which sets SO_REUSEADDR on every TCP socket it binds (docs/kernel-facts.md): the
  // option was on, whatever the caller's context left unsaid.
  const nodeListen = syscall === 'listen' && protocol === 'tcp' && options.reuseAddress === undefined;
  const host = error.address ?? context.host;
  // libuv also sets IPV6_V6ONLY on every IPv6 TCP bind, to Node's `ipv6Only` (false unless given), so
  // net.ipv6.bindv6only never applies to it (measured, docs/kernel-facts.md); the error does not
  // record ipv6Only, and false is Node's default.
  const nodeV6 = nodeListen && options.ipv6Only === undefined && host !== undefined && host.includes(':');
  const failure: Attempt = {
    operation,
    protocol,
    error,
    options: nodeListen
      ? { ...options, reuseAddress: true, ...(nodeV6 ? { ipv6Only: false } : {}) }
      : options,
  };
  const port = error.port ?? context.port;
  if (host !== undefined) failure.local = { host, port: port ?? 0 };
  return failure;
}
