// preflight's bind checks: each bind target bound for real with its options and closed at once,
// with the warnings a passed bind can still deserve (it waited for its address, it bound only
// thanks to freebind).
import type { Attempt } from '../diagnose/input.js';
import { hostReader, readAddresses } from '../host/index.js';
import { formatTarget, parseTarget, type ParsedHost } from '../sys/index.js';
import type { Address, Diagnosis, PreflightCheck, Protocol } from '../types.js';
import { shellQuote } from '../diagnose/shell.js';
import { checkBindOptions, PARSED_TARGET, type BindOptions, type ParsedBindOptions } from './bind-options.js';
import { diagnoseFailure } from './explain.js';
import { bindPlan } from './safe-bind.js';
import { probePlan } from './without-addon.js';
import { AbortError } from './abort-error.js';
import { invalidInput } from './failed.js';

export function checkFailed(kind: 'bind' | 'connect', target: string, diagnosis: Diagnosis): PreflightCheck {
  return { kind, target, ok: false, diagnosis };
}

export function labelOf(host: string, port: number, protocol: Protocol | undefined): string {
  return formatTarget(host, port) + (protocol === 'udp' ? '/udp' : '');
}

export async function invalid(
  kind: 'bind' | 'connect',
  target: string,
  reason: string,
  failure: Omit<Attempt, 'error' | 'invalid'>,
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

export async function checkBind(
  target: string | BindOptions,
  deadline: number,
  signal: AbortSignal | undefined,
  probe = false,
): Promise<PreflightCheck> {
  let opts: BindOptions;
  let label: string;
  let parsedHost: ParsedHost | undefined;
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
    parsedHost = parsed.value.address;
  } else {
    if (typeof target !== 'object' || target === null)
      throw new TypeError('preflight(): bind targets are strings or BindOptions');
    opts = target;
    const pre = (target as ParsedBindOptions)[PARSED_TARGET];
    parsedHost = pre?.host;
    label =
      pre?.label ??
      (typeof target.host === 'string' && typeof target.port === 'number'
        ? labelOf(target.host, target.port, target.protocol)
        : String(target.host));
  }
  const remaining = Math.max(0, deadline - Date.now());
  const started = Date.now();
  // Bound and closed in one tick: concurrent preflights of the same target must not collide. Only a
  // bind whose first attempt failed waited for its address; time alone would also count a slow machine.
  let waitedFor = false;
  const full = { ...opts, waitForAddress: opts.waitForAddress ?? remaining, ...(signal ? { signal } : {}) };
  // The target's host, parsed above, goes down as is: checkBindOptions does not parse it again.
  const checked = checkBindOptions(full, 'safeBind()', undefined, parsedHost);
  if (!checked.ok) {
    if (signal?.aborted) throw new AbortError(signal);
    return checkFailed('bind', label, (await invalidInput(checked.reason, checked.failure)).diagnosis);
  }
  const how = { closeAtOnce: true, onWait: () => (waitedFor = true), probe };
  // Without the addon, Node's own sockets bind (and options only the addon sets say so).
  const result =
    hostReader().kind === 'addon' ? await bindPlan(checked.plan, how) : await probePlan(checked.plan, how);
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
  const host = checked.plan.host;
  const entries = isUnspecified(host) ? undefined : localEntries(host);
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
        `the bind works, but nothing reaches the address until the link is up with carrier (ip link show ${shellQuote(dark.interface)})`,
    );
  }
  return warnings.length > 0
    ? { kind: 'bind', target: label, ok: true, warnings }
    : { kind: 'bind', target: label, ok: true };
}
/** Throws the TypeError of a bind target of the wrong shape (as safeBind would); values come later. */
export function requireBindTarget(target: unknown): asserts target is string | BindOptions {
  if (typeof target === 'string') return;
  if (typeof target !== 'object' || target === null)
    throw new TypeError('preflight(): bind targets are strings or BindOptions');
  checkBindOptions(target, 'safeBind()');
}
