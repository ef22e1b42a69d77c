// safeBind(): a bound socket made with the options Node does not expose, ready for
// `server.listen({ fd })` or dgram `bind({ fd })` — or the failure with its diagnosis. Optionally
// waits for the address to become bindable.
import { constants as osConstants } from 'node:os';
import { closeSocket, formatHost, localAddress, openSocket, releaseSocket, sockAddr } from '../sys/index.js';
import type { Family, Protocol, Result, SocketError } from '../types.js';
import { readAddresses } from '../host/index.js';
import { AbortError } from './abort-error.js';
import { bindFailure, checkBindOptions, type BindOptions, type BindPlan } from './bind-options.js';
import { failedWith, invalidInput, type Failed } from './failed.js';
import { retryUntil } from './wait-for-address.js';

export type { BindOptions } from './bind-options.js';

/**
 * A bound socket. Hand `fd` to `server.listen({ fd })` or dgram `socket.bind({ fd })`: Node then owns
 * it and closes it with the server. Call `close()` only for a socket you did not hand over (a
 * check, a change of plan); calling it twice is harmless, but calling it after Node took the fd would
 * close Node's socket.
 */
export interface BoundSocket {
  /**
   * The socket's file descriptor: bound, not listening, close-on-exec. For `server.listen({ fd })`
   * or dgram `socket.bind({ fd })`, which then own it.
   */
  fd: number;
  /** The address bound, canonical, with its '%interface' for a scoped IPv6 address. */
  host: string;
  /** The port bound: the kernel's choice when 0 was asked. */
  port: number;
  /** 4 for an AF_INET socket, 6 for AF_INET6 (an IPv4-mapped IPv6 address makes an IPv6 socket). */
  family: Family;
  /** 'tcp' (SOCK_STREAM) or 'udp' (SOCK_DGRAM). */
  protocol: Protocol;
  /**
   * Closes the descriptor; a second call does nothing. Call it only while safebind still owns the
   * fd: once it was handed to `server.listen({ fd })` or `socket.bind({ fd })`, close the server
   * instead — `close()` would close Node's socket under it, or whatever descriptor since took the
   * same number.
   */
  close(): void;
}

/**
 * What {@link safeBind} resolves: `{ ok: true, socket }`, or `{ ok: false, error, diagnosis }`.
 * Narrow on `ok` before reading.
 */
export type BindResult =
  | {
      /** The socket is bound. */
      ok: true;
      /** The bound socket, ready to hand to Node. */
      socket: BoundSocket;
    }
  | Failed;

/** Only an absent address is worth waiting for; any other error will not change as addresses do. */
function waitable(error: SocketError): boolean {
  return error.syscall === 'bind' && error.errno === osConstants.errno.EADDRNOTAVAIL;
}

/**
 * Is the address listed with `dadfailed`? Duplicate address detection never clears that by itself
 * (the address must be removed and added again), so waiting for it is waiting out the timeout.
 * Read only after a failed attempt; unknown (unreadable list) counts as no.
 */
function dadFailed(host: BindPlan['host']): boolean {
  if (host.family !== 6 || host.mapped !== undefined) return false;
  const listed = readAddresses();
  if (!listed.ok) return false;
  return listed.value.some(
    (a) =>
      a.address === host.address &&
      a.flags.includes('dadfailed') &&
      (host.scopeId === undefined || a.ifindex === host.scopeId),
  );
}

/** A failure that waiting can end: EADDRNOTAVAIL from bind, unless DAD has failed for the address. */
export function waitableFor(plan: BindPlan): (error: SocketError) => boolean {
  return (error) => waitable(error) && !dadFailed(plan.host);
}

export function boundSocket(fd: number, plan: BindPlan, port: number): BoundSocket {
  let open = true;
  return {
    fd,
    host: formatHost(plan.host),
    port,
    family: plan.host.family,
    protocol: plan.protocol,
    close() {
      if (!open) return;
      open = false;
      closeSocket(fd);
    },
  };
}

/** Sets each option the plan asks for, then binds; nothing is left open when a step fails. */
export function bindOnce(plan: BindPlan): Result<BoundSocket> {
  const opened = openSocket({
    family: plan.host.family,
    protocol: plan.protocol,
    options: plan.socketOptions,
    bind: sockAddr(plan.host, plan.port),
  });
  if (!opened.ok) return opened;
  const fd = opened.value;
  let port = plan.port;
  if (port === 0) {
    const local = localAddress(fd);
    if (!local.ok) {
      closeSocket(fd);
      return local;
    }
    port = local.value.port;
  }
  return { ok: true, value: boundSocket(fd, plan, port) };
}

/**
 * Binds per the plan, waiting for the address when asked; the failure carries its diagnosis.
 * `closeAtOnce` (a check, such as preflight's): each successful bind is closed in the same tick it
 * was made: a socket held across an await would make a concurrent check of the same target fail
 * with EADDRINUSE and name this very process as the holder. The resolved socket is then closed.
 * `onWait` is called once, when the first attempt failed and the wait for the address begins.
 */
export async function bindPlan(
  plan: BindPlan,
  {
    closeAtOnce = false,
    onWait,
    probe = false,
  }: { closeAtOnce?: boolean; onWait?: () => void; probe?: boolean } = {},
): Promise<BindResult> {
  if (plan.signal?.aborted) throw new AbortError(plan.signal);
  const attempt = (): Result<BoundSocket> => {
    const bound = bindOnce(plan);
    if (bound.ok && closeAtOnce) bound.value.close();
    return bound;
  };
  let result = attempt();
  const canWait = waitableFor(plan);
  let waitedMs: number | undefined;
  if (!result.ok && plan.waitForAddress > 0 && canWait(result.error)) {
    onWait?.();
    const started = performance.now();
    result = await retryUntil(attempt, canWait, {
      timeout: plan.waitForAddress,
      signal: plan.signal,
    });
    waitedMs = Math.round(performance.now() - started);
  }
  if (result.ok) {
    // The caller's now (closeAtOnce closed it already).
    if (!closeAtOnce) releaseSocket(result.value.fd);
    return { ok: true, socket: result.value };
  }
  // Diagnosed now, after the wait: the diagnosis describes the host as it is at the end of it.
  const failure = {
    ...bindFailure(plan),
    error: result.error,
    ...(waitedMs !== undefined ? { waitedMs } : {}),
  };
  return failedWith(failure, result.error, { probe });
}

/**
 * Creates a TCP or UDP socket, sets the options asked for (`reuseAddress` — on by default for TCP,
 * as Node —, `reusePort`, `ipv6Only` on an IPv6 socket, `freebind`, `device`), binds it, and for
 * port 0 reads back the port the kernel chose. It does not listen: hand the fd to Node.
 *
 * Resolves `{ ok: true, socket }` with a {@link BoundSocket}, or `{ ok: false, error, diagnosis }`:
 * the diagnosis is always there, read from the host after the failure. Its cause is one of
 * `address-not-local`, `address-appeared`, `address-tentative`, `address-dad-failed`, `address-on-other-host`,
 * `family-unavailable`, `scope-id-required`, `port-in-use`, `bind-ports-exhausted`,
 * `port-privileged`, `invalid-address`, `unsupported-platform` or `unknown`. A value that is no
 * usable address or port (`'bogus'`, port 70000, `'1.2.3.4.5'`, a host name) fails with cause
 * `invalid-address` before any system call; not Linux fails with `unsupported-platform`. A wrong
 * type (`host: 42`, a `signal` that is no AbortSignal, a negative `waitForAddress`) throws a
 * TypeError. No descriptor is left open on any failure path.
 *
 * With `waitForAddress: ms`, an address that is not bindable yet (EADDRNOTAVAIL: a VIP not attached,
 * IPv6 DAD still running) is waited for: re-checked on each rtnetlink address notification, with a
 * slow poll as a fallback, and bound as soon as it is usable. On timeout the failure's diagnosis
 * describes the host at the end of the wait. Other errors (port in use…) are returned at once, and
 * so is an IPv6 address whose duplicate address detection failed (`address-dad-failed`): that never
 * clears by itself.
 *
 * When `signal` aborts — before the call or during the wait — the promise rejects with an
 * `AbortError` (`name: 'AbortError'`, `code: 'ABORT_ERR'`, `cause: signal.reason`), as Node's own
 * cancellable operations do, and nothing stays open.
 */
export async function safeBind(opts: BindOptions): Promise<BindResult> {
  return checkAndBind(opts, {});
}

async function checkAndBind(
  opts: BindOptions,
  how: { closeAtOnce?: boolean; onWait?: () => void; probe?: boolean },
): Promise<BindResult> {
  const checked = checkBindOptions(opts, 'safeBind()');
  if (!checked.ok) {
    if (opts.signal?.aborted) throw new AbortError(opts.signal);
    return invalidInput(checked.reason, checked.failure);
  }
  return bindPlan(checked.plan, how);
}
