// preflight(): what a service calls first thing at start-up, and what `safebind preflight` wraps.
// Bind targets are bound for real and closed; connect targets are checked for a route and for
// source-port headroom, and connected for real when asked (`probe`).
import type { PreflightCheck, PreflightReport, Protocol } from '../types.js';
import { AbortError, requireSignal } from './abort-error.js';
import { requireDuration, type BindOptions } from './bind-options.js';
import { checkBind, requireBindTarget } from './preflight-bind.js';
import { checkConnect, requireConnectTarget } from './preflight-connect.js';

export { POOL_WARNING_USAGE } from './preflight-connect.js';

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

/** The keys of a PreflightSpec: any other is a misspelling. */
const SPEC_KEYS = new Set(['bind', 'connect', 'wait', 'probe', 'signal']);

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
  // A misspelt key (`binds`) would leave its targets unchecked and the report ok: the check that
  // guards a service's start must not pass for a typo.
  for (const key of Object.keys(spec))
    if (!SPEC_KEYS.has(key))
      throw new TypeError(
        `preflight(): unknown option ${JSON.stringify(key)} (it takes ${[...SPEC_KEYS].join(', ')})`,
      );
  if (spec.bind !== undefined && !Array.isArray(spec.bind))
    throw new TypeError('preflight(): bind must be an array');
  if (spec.connect !== undefined && !Array.isArray(spec.connect))
    throw new TypeError('preflight(): connect must be an array');
  requireDuration(spec.wait, 'wait', 'preflight()');
  if (spec.probe !== undefined && typeof spec.probe !== 'boolean')
    throw new TypeError('preflight(): probe must be a boolean');
  requireSignal(spec.signal, 'preflight()');
  if ((spec.bind ?? []).length === 0 && (spec.connect ?? []).length === 0)
    throw new TypeError('preflight(): nothing to check: give bind or connect targets');
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
