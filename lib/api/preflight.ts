// preflight(): what a service calls first thing at start-up, and what `safebind preflight` wraps.
// Bind targets are bound for real and closed; connect targets are checked for a route and for
// source-port headroom, and connected for real when asked (`probe`).
import { lookup } from 'node:dns/promises';
import { constants as osConstants } from 'node:os';
import type { Failure } from '../diagnose/input.js';
import { lookupRoute, readAddresses, readPortUsage } from '../host/index.js';
import {
  bind,
  closeSocket,
  formatHost,
  formatTarget,
  openSocket,
  parseDestination,
  parseDestinationPort,
  parseHost,
  parseTarget,
  setBindAddressNoPort,
  socketError,
  sockAddr,
  type ParsedHost,
} from '../sys/index.js';
import type { Address, Diagnosis, PreflightCheck, PreflightReport, Protocol, SocketError } from '../types.js';
import { AbortError, requireSignal } from './abort-error.js';
import { checkBindOptions, requireDuration, type BindOptions } from './bind-options.js';
import { diagnoseFailure } from './explain.js';
import { invalidInputError } from './failed.js';
import { toSocketError } from './failure.js';
import { bindAndClose } from './safe-bind.js';
import { safeConnect } from './safe-connect.js';

/** A destination to check: address or host name, port, and what the service connects with. */
export interface ConnectTarget {
  /** The destination: an IP address, or a host name resolved with dns.lookup (the system resolver). */
  host: string;
  /** The destination port, 1-65535. */
  port: number;
  /** The source address the service binds before connecting, if any. */
  localAddress?: string;
  /** 'tcp' (default) or 'udp'. A UDP target is checked for route and pool, never probed. */
  protocol?: Protocol;
  /** Connect for real (then close at once); overrides the spec's `probe`. */
  probe?: boolean;
  /** Milliseconds the probe may take; 5000 by default. */
  timeout?: number;
}

/** What {@link preflight} checks: the addresses a service binds, the destinations it connects to. */
export interface PreflightSpec {
  /**
   * `10.0.0.50:8080`, `[fd00::1]:443`, `[fe80::1%eth0]:80` (TCP, default options), or BindOptions
   * for UDP, freebind, … A target's own `waitForAddress` replaces what is left of `wait`.
   */
  bind?: Array<string | BindOptions>;
  /** `db.internal:5432`, `10.0.0.7:443`, or a ConnectTarget. Names are resolved with dns.lookup. */
  connect?: Array<string | ConnectTarget>;
  /** Milliseconds to wait, in all, for bind addresses to become bindable (VIP, DHCP, IPv6 DAD). */
  wait?: number;
  /**
   * Connect to every TCP connect target for real; and for a bind address that is not local but in
   * a local subnet, ask the link (ARP) whether another host answers for it.
   */
  probe?: boolean;
  /** Aborts the checks: preflight then rejects with an AbortError. */
  signal?: AbortSignal;
}

/** A pool this full gets a warning: the service would be near its limit toward that destination. */
export const POOL_WARNING_USAGE = 0.8;
const PROBE_TIMEOUT_MS = 5000;

function checkFailed(kind: 'bind' | 'connect', target: string, diagnosis: Diagnosis): PreflightCheck {
  return { kind, target, ok: false, diagnosis };
}

function labelOf(host: string, port: number, protocol: Protocol | undefined): string {
  return formatTarget(host, port) + (protocol === 'udp' ? '/udp' : '');
}

async function invalid(
  kind: 'bind' | 'connect',
  target: string,
  reason: string,
  failure: Omit<Failure, 'error' | 'invalid'>,
) {
  return checkFailed(kind, target, await diagnoseFailure({ ...failure, error: null, invalid: reason }));
}

/** This host's entries for `host` now; undefined when the list cannot be read. */
function localEntries(host: ParsedHost): Address[] | undefined {
  const listed = readAddresses();
  if (!listed.ok) return undefined;
  const wanted = host.mapped ?? host.address;
  return listed.value.filter(
    (a) => a.address === wanted && (host.scopeId === undefined || a.ifindex === host.scopeId),
  );
}

function isUnspecified(host: ParsedHost): boolean {
  return host.address === '0.0.0.0' || host.address === '::';
}

async function checkBind(
  target: string | BindOptions,
  deadline: number,
  signal: AbortSignal | undefined,
  probe = false,
): Promise<PreflightCheck> {
  let opts: BindOptions;
  let label: string;
  if (typeof target === 'string') {
    label = target;
    const parsed = parseTarget(target);
    const given = { operation: 'bind' as const, protocol: 'tcp' as const, options: {} };
    if (!parsed.ok) return invalid('bind', label, parsed.reason, given);
    if (parsed.value.kind === 'name') {
      return invalid('bind', label, `${parsed.value.host} is a host name; a bind target needs an address`, {
        ...given,
        local: { host: parsed.value.host, port: parsed.value.port },
      });
    }
    opts = { host: parsed.value.host, port: parsed.value.port };
  } else {
    if (typeof target !== 'object' || target === null)
      throw new TypeError('preflight(): bind targets are strings or BindOptions');
    opts = target;
    label =
      typeof target.host === 'string' && typeof target.port === 'number'
        ? labelOf(target.host, target.port, target.protocol)
        : String(target.host);
  }
  const remaining = Math.max(0, deadline - Date.now());
  const started = Date.now();
  // Bound and closed in one tick: concurrent preflights of the same target must not collide. Only a
  // bind whose first attempt failed waited for its address; time alone would also count a slow machine.
  let waitedFor = false;
  const result = await bindAndClose(
    { ...opts, waitForAddress: opts.waitForAddress ?? remaining, ...(signal ? { signal } : {}) },
    () => (waitedFor = true),
    probe,
  );
  if (!result.ok) return checkFailed('bind', label, result.diagnosis);
  const waited = Date.now() - started;
  result.socket.close();
  const warnings: string[] = [];
  if (waitedFor) {
    warnings.push(
      `${result.socket.host} became bindable only after ${waited} ms: start the service after the address is up ` +
        '(systemd After=network-online.target, or keepalived notify) or keep waitForAddress',
    );
  }
  const parsed = parseHost(opts.host);
  const entries = parsed.ok && !isUnspecified(parsed.value) ? localEntries(parsed.value) : undefined;
  if (opts.freebind === true && entries !== undefined && entries.length === 0) {
    warnings.push(
      `${result.socket.host} is on no interface yet: it bound only because freebind is on, and receives nothing until the address is attached`,
    );
  }
  // A bind succeeds on a link without carrier (IPv4 always; IPv6 once DAD is done): pass, but say
  // that nothing arrives there until the link has carrier.
  const dark = entries?.find((a) => !a.flags.includes('running') && !a.flags.includes('loopback'));
  if (dark !== undefined) {
    warnings.push(
      `${result.socket.host} is on ${dark.interface}, which ${dark.flags.includes('up') ? 'has no carrier' : 'is down'}: ` +
        `the bind works, but nothing reaches the address until the link is up with carrier (ip link show ${dark.interface})`,
    );
  }
  return warnings.length > 0
    ? { kind: 'bind', target: label, ok: true, warnings }
    : { kind: 'bind', target: label, ok: true };
}

interface ConnectPlan {
  label: string;
  remote: ParsedHost;
  port: number;
  localAddress: ParsedHost | undefined;
  protocol: Protocol;
  probe: boolean;
  timeout: number;
}

/** The failure a connect would meet, predicted from the host's state rather than from a syscall. */
function predicted(plan: ConnectPlan, error: SocketError): Failure {
  const failure: Failure = {
    operation: 'connect',
    protocol: plan.protocol,
    error,
    remote: { host: formatHost(plan.remote), port: plan.port, family: plan.remote.family },
    options: {},
  };
  if (plan.localAddress) failure.local = { host: formatHost(plan.localAddress), port: 0 };
  return failure;
}

/** Binds the source address the way a connect would (no port yet), and closes it again. */
function checkSource(plan: ConnectPlan, source: ParsedHost): SocketError | undefined {
  const opened = openSocket(source.family, plan.protocol);
  if (!opened.ok) return opened.error;
  try {
    if (plan.protocol === 'tcp') setBindAddressNoPort(opened.value, true);
    const bound = bind(opened.value, sockAddr(source, 0));
    return bound.ok ? undefined : bound.error;
  } finally {
    closeSocket(opened.value);
  }
}

/** Throws the TypeError of a connect target of the wrong shape; its values are checked later. */
function requireConnectTarget(target: unknown): asserts target is string | ConnectTarget {
  if (typeof target === 'string') return;
  const t = target as Partial<Record<keyof ConnectTarget, unknown>> | null;
  if (typeof t !== 'object' || t === null || typeof t.host !== 'string' || typeof t.port !== 'number') {
    throw new TypeError('preflight(): connect targets are strings or { host: string, port: number, … }');
  }
  if (t.protocol !== undefined && t.protocol !== 'tcp' && t.protocol !== 'udp') {
    throw new TypeError(`preflight(): protocol must be 'tcp' or 'udp', got ${String(t.protocol)}`);
  }
  if (t.localAddress !== undefined && typeof t.localAddress !== 'string') {
    throw new TypeError('preflight(): localAddress must be a string');
  }
  if (t.probe !== undefined && typeof t.probe !== 'boolean') {
    throw new TypeError('preflight(): probe must be a boolean');
  }
  requireDuration(t.timeout, 'timeout', 'preflight()');
}

/** Throws the TypeError of a bind target of the wrong shape (as safeBind would); values come later. */
function requireBindTarget(target: unknown): asserts target is string | BindOptions {
  if (typeof target === 'string') return;
  if (typeof target !== 'object' || target === null)
    throw new TypeError('preflight(): bind targets are strings or BindOptions');
  checkBindOptions(target, 'safeBind()');
}

async function planConnect(
  target: string | ConnectTarget,
  spec: PreflightSpec,
): Promise<{ ok: true; plan: ConnectPlan } | { ok: false; check: PreflightCheck }> {
  let host: string;
  let port: number;
  let label: string;
  let extra: Partial<ConnectTarget> = {};
  const given = (h: string, p: number): Omit<Failure, 'error' | 'invalid'> => ({
    operation: 'connect',
    protocol: extra.protocol ?? 'tcp',
    remote: { host: h, port: p },
    options: {},
  });
  if (typeof target === 'string') {
    label = target;
    const parsed = parseTarget(target);
    if (!parsed.ok)
      return { ok: false, check: await invalid('connect', label, parsed.reason, given(target, 0)) };
    host = parsed.value.host;
    port = parsed.value.port;
  } else {
    requireConnectTarget(target);
    extra = target;
    host = target.host;
    port = target.port;
    label = labelOf(host, port, target.protocol);
  }
  const portChecked = parseDestinationPort(port);
  if (!portChecked.ok) {
    return { ok: false, check: await invalid('connect', label, portChecked.reason, given(host, port)) };
  }
  let localAddress: ParsedHost | undefined;
  if (extra.localAddress !== undefined) {
    const parsed = parseHost(extra.localAddress);
    if (!parsed.ok)
      return {
        ok: false,
        check: await invalid('connect', label, `localAddress: ${parsed.reason}`, given(host, port)),
      };
    localAddress = parsed.value;
  }
  let remote: ParsedHost;
  const destination = parseDestination(host);
  if (!destination.ok) {
    return { ok: false, check: await invalid('connect', label, destination.reason, given(host, port)) };
  }
  if (destination.value.kind === 'address') {
    remote = destination.value.address;
  } else {
    try {
      const found = await lookup(destination.value.host, { family: localAddress?.family ?? 0 });
      const parsed = parseHost(found.address);
      if (!parsed.ok) throw new Error(parsed.reason);
      remote = parsed.value;
    } catch (e) {
      const error = toSocketError(e);
      const failure: Failure = {
        ...given(host, port),
        error: error.syscall ? error : invalidInputError(String(e)),
      };
      return { ok: false, check: checkFailed('connect', label, await diagnoseFailure(failure)) };
    }
  }
  if (localAddress && localAddress.family !== remote.family) {
    return {
      ok: false,
      check: await invalid(
        'connect',
        label,
        `localAddress ${formatHost(localAddress)} is IPv${localAddress.family} but ${remote.address} is IPv${remote.family}`,
        given(host, port),
      ),
    };
  }
  return {
    ok: true,
    plan: {
      label,
      remote,
      port,
      localAddress,
      protocol: extra.protocol ?? 'tcp',
      probe: extra.probe ?? spec.probe ?? false,
      timeout: extra.timeout ?? PROBE_TIMEOUT_MS,
    },
  };
}

/** Route types through which a connect can leave; anything else (unreachable, prohibit…) rejects it. */
const USABLE_ROUTES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'anycast']);

async function checkConnect(
  target: string | ConnectTarget,
  spec: PreflightSpec,
  signal: AbortSignal | undefined,
): Promise<PreflightCheck> {
  const planned = await planConnect(target, spec);
  if (!planned.ok) return planned.check;
  const plan = planned.plan;
  const fail = async (error: SocketError) =>
    checkFailed('connect', plan.label, await diagnoseFailure(predicted(plan, error)));
  const destination = formatHost(plan.remote);
  const where = { address: destination, port: plan.port };

  if (plan.localAddress) {
    const sourceError = checkSource(plan, plan.localAddress);
    if (sourceError)
      return checkFailed('connect', plan.label, await diagnoseFailure({ ...predicted(plan, sourceError) }));
  }

  const route = lookupRoute(destination, plan.localAddress ? { source: plan.localAddress.address } : {});
  if (!route.ok) return fail(socketError('connect', route.errno, where));
  if (!USABLE_ROUTES.has(route.type))
    return fail(socketError('connect', osConstants.errno.ENETUNREACH, where));

  const warnings: string[] = [];
  const usage = readPortUsage({
    host: plan.remote.address,
    port: plan.port,
    protocol: plan.protocol,
    ...(plan.localAddress ? { localAddress: plan.localAddress.address } : {}),
  });
  if (!usage.ok) {
    warnings.push(
      `the source-port pool toward ${formatTarget(destination, plan.port)} could not be read: ${usage.error.message}`,
    );
  } else if (usage.value.notRead !== undefined) {
    warnings.push(
      `the source-port pool toward ${usage.value.destination} could not be read: ${usage.value.notRead}`,
    );
  } else if (usage.value.inUse >= usage.value.poolSize) {
    const errno = plan.protocol === 'tcp' ? osConstants.errno.EADDRNOTAVAIL : osConstants.errno.EAGAIN;
    return fail(socketError('connect', errno, where));
  } else if (usage.value.usage >= POOL_WARNING_USAGE) {
    const u = usage.value;
    warnings.push(
      `the source-port pool toward ${u.destination} is ${Math.round(u.usage * 100)}% used (${u.inUse} of ${u.poolSize} ports)`,
    );
  }

  if (plan.probe) {
    if (plan.protocol === 'udp') {
      warnings.push('not probed: UDP has no handshake to try');
    } else {
      const connected = await safeConnect({
        host: destination,
        port: plan.port,
        ...(plan.localAddress ? { localAddress: formatHost(plan.localAddress) } : {}),
        timeout: plan.timeout,
        ...(signal ? { signal } : {}),
      });
      if (!connected.ok) return checkFailed('connect', plan.label, connected.diagnosis);
      connected.socket.destroy();
    }
  }
  return warnings.length > 0
    ? { kind: 'connect', target: plan.label, ok: true, warnings }
    : { kind: 'connect', target: plan.label, ok: true };
}

/**
 * Checks what a service needs before it starts: each bind target is bound for real (with its
 * options) and closed again, waiting up to `wait` ms in all for addresses that are not bindable yet;
 * each connect target is resolved, checked for a route (and, with a `localAddress`, that the source
 * binds) and for source-port headroom toward it, and with `probe` connected for real.
 *
 * Resolves a {@link PreflightReport}: `ok` when every check passed; a failed check carries its
 * diagnosis, a passed one may carry warnings (waited for its address, bound only thanks to
 * freebind, pool over 80 % used, not probed…). A failed bind check has a cause of
 * {@link safeBind}: `address-not-local`, `address-appeared`, `address-tentative`,
 * `address-dad-failed`, `address-on-other-host`, `family-unavailable`, `scope-id-required`, `port-in-use`,
 * `bind-ports-exhausted`, `port-privileged`. A failed connect check has `source-not-local` (or
 * another cause of binding its `localAddress`), `no-route`, `ephemeral-ports-exhausted` (the pool
 * is full now), or with `probe` a cause of {@link safeConnect}. Unusable targets (a host name to
 * bind, port 0, a bad address) fail with `invalid-address`; `unsupported-platform` off Linux;
 * `unknown` otherwise (a name that does not resolve, a refused probe). Bind checks run one after
 * another, so two targets on the same port do not collide with each other; connect checks run
 * concurrently after them. Throws a TypeError for arguments of the wrong type; rejects with an
 * AbortError when `signal` aborts.
 */
export async function preflight(spec: PreflightSpec): Promise<PreflightReport> {
  if (typeof spec !== 'object' || spec === null)
    throw new TypeError('preflight() takes { bind?, connect?, wait? }');
  if (spec.bind !== undefined && !Array.isArray(spec.bind))
    throw new TypeError('preflight(): bind must be an array');
  if (spec.connect !== undefined && !Array.isArray(spec.connect))
    throw new TypeError('preflight(): connect must be an array');
  requireDuration(spec.wait, 'wait', 'preflight()');
  if (spec.probe !== undefined && typeof spec.probe !== 'boolean')
    throw new TypeError('preflight(): probe must be a boolean');
  requireSignal(spec.signal, 'preflight()');
  // Every target's types first: a TypeError is thrown before any target was bound or connected.
  for (const target of spec.bind ?? []) requireBindTarget(target);
  for (const target of spec.connect ?? []) requireConnectTarget(target);
  const signal = spec.signal;
  const deadline = Date.now() + (spec.wait ?? 0);
  const checks: PreflightCheck[] = [];
  for (const target of spec.bind ?? []) {
    if (signal?.aborted) throw new AbortError(signal);
    checks.push(await checkBind(target, deadline, signal, spec.probe ?? false));
  }
  const connects = await Promise.all(
    (spec.connect ?? []).map((target) => checkConnect(target, spec, signal)),
  );
  if (signal?.aborted) throw new AbortError(signal);
  checks.push(...connects);
  return { ok: checks.every((c) => c.ok), checks };
}
