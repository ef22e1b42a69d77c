// safeConnect(): an outbound TCP connection from an optional source address and port, with the
// socket options Node does not expose (IP_BIND_ADDRESS_NO_PORT, IP_FREEBIND), that resolves a
// connected net.Socket — or the failure with its diagnosis. Never blocks the event loop.
import { lookup } from 'node:dns/promises';
import type net from 'node:net';
import type { Attempt } from '../diagnose/input.js';
import {
  formatHost,
  openSocket,
  parseDestination,
  parseDestinationPort,
  parseHost,
  parsePort,
  sockAddr,
  type ParsedHost,
  type SocketOptions,
} from '../sys/index.js';
import type { Result, SocketError } from '../types.js';
import { AbortError, requireSignal } from './abort-error.js';
import { requireDuration } from './bind-options.js';
import { failedWith, invalidInput, type Failed } from './failed.js';
import { toSocketError } from './failure.js';
import { connectFd } from './connect-fd.js';
import { checkSourcePoolTypes, parseSourcePool, type SourcePool } from './source-pool.js';
import { diagnoseSources } from './sources-diagnosis.js';

/** Where {@link safeConnect} connects to, from where, and with which socket options. */
export interface ConnectOptions {
  /**
   * The destination: an IP address, or a host name resolved with dns.lookup (the system resolver),
   * in the family of `localAddress` when one is given.
   */
  host: string;
  /** The destination port, 1-65535. */
  port: number;
  /**
   * The source address to connect from; it must be on this host unless `freebind` is set, and of
   * the destination's family.
   */
  localAddress?: string;
  /** The source port; 0 or absent lets the kernel choose. */
  localPort?: number;
  /**
   * IP_FREEBIND (IPPROTO_IP) for IPv4, IPV6_FREEBIND (IPPROTO_IPV6) for IPv6: bind a source address
   * that is not (yet) on an interface. Off by default.
   */
  freebind?: boolean;
  /**
   * IP_BIND_ADDRESS_NO_PORT (IPPROTO_IP, for both families): bind only the source address and let
   * connect() pick the port per 4-tuple, so one source port serves many destinations. Defaults to
   * true when `localAddress` is given without a `localPort`; it has no effect with a `localPort`.
   */
  bindAddressNoPort?: boolean;
  /**
   * Milliseconds to wait for the handshake, then fail with connect ETIMEDOUT; absent or 0 leaves
   * the kernel's own timeout (minutes), as Node.
   */
  timeout?: number;
  /**
   * A pool of source addresses to connect from, instead of `localAddress`: the one with the fewest
   * connections this process made through safeConnect toward the destination first, a source whose
   * pool is full skipped, and on EADDRNOTAVAIL the next source tried. When every source is full the
   * failure is `ephemeral-ports-exhausted` with `evidence.sources`, one entry per source. Each
   * connection: socket, IP_BIND_ADDRESS_NO_PORT (unless `bindAddressNoPort: false`), bind(source, 0),
   * connect.
   */
  sources?: string[];
  /**
   * IP_LOCAL_PORT_RANGE [lo, hi] on the socket (Linux 6.3+; before, the connect fails with
   * setsockopt ENOPROTOOPT): source ports come only from that slice. Goes with `sources`; see
   * localPortRangeSlice() of safebind/agent for per-process slices.
   */
  localPortRange?: [number, number];
  /** Aborts the connect: safeConnect then rejects with an AbortError and nothing stays open. */
  signal?: AbortSignal;
}

/**
 * What {@link safeConnect} resolves: `{ ok: true, socket }`, or `{ ok: false, error, diagnosis }`.
 * Narrow on `ok` before reading.
 */
export type ConnectResult =
  | {
      /** The connection is established. */
      ok: true;
      /** The connected socket; the caller owns it (`socket.destroy()` or `end()` when done). */
      socket: net.Socket;
    }
  | Failed;

interface ConnectPlan {
  remote: ParsedHost;
  port: number;
  local: ParsedHost | undefined;
  localPort: number;
  freebind: boolean;
  bindAddressNoPort: boolean;
  timeout: number | undefined;
  signal: AbortSignal | undefined;
}

function requireType(value: unknown, type: 'string' | 'number' | 'boolean', name: string, optional: boolean) {
  if ((optional && value === undefined) || typeof value === type) return;
  throw new TypeError(
    `safeConnect(): ${name} must be a ${type}, got ${value === null ? 'null' : typeof value}`,
  );
}

function unspecified(family: 4 | 6): ParsedHost {
  const address = family === 4 ? '0.0.0.0' : '::';
  return { address, family, linkLocal: false, ip: { family, bytes: new Uint8Array(family === 4 ? 4 : 16) } };
}

/** The destination as an IP address: a literal as is, a host name through dns.lookup. */
async function resolveHost(
  host: string,
  family: 4 | 6 | undefined,
): Promise<
  { ok: true; value: ParsedHost } | { ok: false; reason: string } | { ok: false; error: SocketError }
> {
  const destination = parseDestination(host);
  if (!destination.ok) return destination;
  if (destination.value.kind === 'address') return { ok: true, value: destination.value.address };
  try {
    const found = await lookup(destination.value.host, { family: family ?? 0 });
    const parsed = parseHost(found.address);
    return parsed.ok ? parsed : { ok: false, reason: parsed.reason };
  } catch (e) {
    return { ok: false, error: toSocketError(e) };
  }
}

function failureOf(plan: ConnectPlan | undefined, opts: ConnectOptions): Omit<Attempt, 'error'> {
  const options: Attempt['options'] = {};
  if (opts.freebind !== undefined) options.freebind = opts.freebind;
  if (plan !== undefined) options.bindAddressNoPort = plan.bindAddressNoPort;
  else if (opts.bindAddressNoPort !== undefined) options.bindAddressNoPort = opts.bindAddressNoPort;
  const failure: Omit<Attempt, 'error'> = {
    operation: 'connect',
    protocol: 'tcp',
    remote: plan
      ? { host: formatHost(plan.remote), port: plan.port, family: plan.remote.family }
      : { host: opts.host, port: opts.port },
    options,
  };
  const localHost = plan?.local ? formatHost(plan.local) : opts.localAddress;
  if (localHost !== undefined)
    failure.local = { host: localHost, port: plan?.localPort ?? opts.localPort ?? 0 };
  else if ((plan?.localPort ?? 0) > 0 && plan) {
    failure.local = { host: unspecified(plan.remote.family).address, port: plan.localPort };
  }
  return failure;
}

/** Opens the socket, sets its options and binds the source; the fd is closed on any failure. */
function prepare(plan: ConnectPlan): Result<number> {
  const family = plan.remote.family;
  const options: SocketOptions = {};
  if (plan.freebind) options.freebind = true;
  const binds = plan.local !== undefined || plan.localPort > 0;
  if (binds && plan.bindAddressNoPort && plan.localPort === 0) options.bindAddressNoPort = true;
  return openSocket({
    family,
    protocol: 'tcp',
    options,
    ...(binds ? { bind: sockAddr(plan.local ?? unspecified(family), plan.localPort) } : {}),
  });
}

/**
 * Hands the prepared descriptor to a net.Socket and lets Node (libuv) make the non-blocking connect
 * (connect-fd.ts); a failure is diagnosed. Node closes the fd on failure.
 */
async function connectOn(
  fd: number,
  plan: ConnectPlan,
  failure: Omit<Attempt, 'error'>,
): Promise<ConnectResult> {
  const done = await connectFd(fd, {
    host: formatHost(plan.remote),
    port: plan.port,
    timeout: plan.timeout,
    signal: plan.signal,
  });
  if (done.ok) return { ok: true, socket: done.value };
  return failedWith({ ...failure, error: done.error }, done.error);
}

/** One pool per distinct configuration of sources, so live connections are counted across calls. */
const pools = new Map<string, SourcePool>();

function poolFor(opts: ConnectOptions): { ok: true; value: SourcePool } | { ok: false; reason: string } {
  const key = JSON.stringify([opts.sources, opts.bindAddressNoPort ?? true, opts.localPortRange]);
  const known = pools.get(key);
  if (known !== undefined) return { ok: true, value: known };
  const parsed = parseSourcePool({
    sources: opts.sources,
    bindAddressNoPort: opts.bindAddressNoPort,
    localPortRange: opts.localPortRange,
  });
  if (parsed.ok) pools.set(key, parsed.value);
  return parsed;
}

/** safeConnect over a pool of sources: least-used first, a full one skipped, the next tried. */
async function connectFromSources(opts: ConnectOptions, port: number): Promise<ConnectResult> {
  const signal = opts.signal;
  const base = failureOf(undefined, opts);
  const pool = poolFor(opts);
  if (!pool.ok) return invalidInput(pool.reason, base);
  const remote = await resolveHost(opts.host, pool.value.family());
  if (signal?.aborted) throw new AbortError(signal);
  if (!remote.ok) {
    if ('reason' in remote) return invalidInput(remote.reason, base);
    return failedWith({ ...base, error: remote.error }, remote.error);
  }
  const problem = pool.value.familyProblem(remote.value.family);
  if (problem !== undefined) return invalidInput(problem, base);
  const done = await pool.value.connect(remote.value, port, { timeout: opts.timeout, signal });
  if (done.ok) return { ok: true, socket: done.socket };
  return { ok: false, error: done.error, diagnosis: await diagnoseSources(pool.value, done) };
}

/**
 * Connects to `host:port` over TCP, from `localAddress` / `localPort` when given, with `freebind`
 * and `bindAddressNoPort` (on by default when a local address is given with port 0, so the kernel
 * picks the source port at connect time, per 4-tuple). The connect is non-blocking; completion comes
 * from the event loop.
 *
 * Resolves `{ ok: true, socket }` with a connected `net.Socket` that reads and writes normally, or
 * `{ ok: false, error, diagnosis }`: `source-not-local` when the local address is on no interface,
 * `ephemeral-ports-exhausted` with the pool figures, `no-route`; at the bind step of the source also
 * `port-in-use`, `port-privileged`, `address-tentative`, `address-dad-failed`, `scope-id-required`
 * or `family-unavailable`; `unsupported-platform` off Linux; a refused or timed-out connect, or a
 * host name that does not resolve, is `unknown` with a summary. Unusable input (a bad address, port
 * 0, a local address of the other family) fails with `invalid-address` before any system call; a
 * wrong type throws a TypeError; when `signal` aborts the promise rejects with an AbortError (as
 * Node's own cancellable operations do). No descriptor is left open on any path.
 */
export async function safeConnect(opts: ConnectOptions): Promise<ConnectResult> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('safeConnect() takes { host, port, … }');
  requireType(opts.host, 'string', 'host', false);
  requireType(opts.port, 'number', 'port', false);
  requireType(opts.localAddress, 'string', 'localAddress', true);
  requireType(opts.localPort, 'number', 'localPort', true);
  requireType(opts.freebind, 'boolean', 'freebind', true);
  requireType(opts.bindAddressNoPort, 'boolean', 'bindAddressNoPort', true);
  requireDuration(opts.timeout, 'timeout', 'safeConnect()');
  requireSignal(opts.signal, 'safeConnect()');
  checkSourcePoolTypes(opts, 'safeConnect()');
  const signal = opts.signal;
  if (signal?.aborted) throw new AbortError(signal);

  const invalid = (reason: string) => invalidInput(reason, failureOf(undefined, opts));
  const port = parseDestinationPort(opts.port);
  if (!port.ok) return invalid(port.reason);
  if (opts.sources !== undefined || opts.localPortRange !== undefined) {
    if (opts.localAddress !== undefined || opts.localPort !== undefined)
      return invalid('give sources (a pool of source addresses) or localAddress/localPort, not both');
    return connectFromSources(opts, port.value);
  }
  let local: ParsedHost | undefined;
  if (opts.localAddress !== undefined) {
    const parsed = parseHost(opts.localAddress);
    if (!parsed.ok) return invalid(`localAddress: ${parsed.reason}`);
    local = parsed.value;
  }
  let localPort = 0;
  if (opts.localPort !== undefined) {
    const parsed = parsePort(opts.localPort);
    if (!parsed.ok) return invalid(`localPort: ${parsed.reason}`);
    localPort = parsed.value;
  }

  const remote = await resolveHost(opts.host, local?.family);
  if (signal?.aborted) throw new AbortError(signal);
  if (!remote.ok) {
    if ('reason' in remote) return invalid(remote.reason);
    return failedWith({ ...failureOf(undefined, opts), error: remote.error }, remote.error);
  }
  if (local !== undefined && local.family !== remote.value.family) {
    return invalid(
      `localAddress ${opts.localAddress} is IPv${local.family} but the destination ${remote.value.address} is IPv${remote.value.family}`,
    );
  }
  const plan: ConnectPlan = {
    remote: remote.value,
    port: port.value,
    local,
    localPort,
    freebind: opts.freebind === true,
    bindAddressNoPort: opts.bindAddressNoPort ?? (local !== undefined && localPort === 0),
    timeout: opts.timeout,
    signal,
  };
  const failure = failureOf(plan, opts);
  const prepared = prepare(plan);
  if (!prepared.ok) return failedWith({ ...failure, error: prepared.error }, prepared.error);
  return connectOn(prepared.value, plan, failure);
}
