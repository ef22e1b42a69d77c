// preflight's connect checks: the destination resolved, the source address bound the way a connect
// would, the route looked up, the source-port pool toward it counted, and with `probe` a real connect.
import { lookup } from 'node:dns/promises';
import { constants as osConstants } from 'node:os';
import type { Attempt } from '../diagnose/input.js';
import { hostReader, readPortUsage } from '../host/index.js';
import {
  formatHost,
  formatTarget,
  parseDestination,
  parseDestinationPort,
  parseHost,
  parseTarget,
  socketError,
  type ParsedHost,
} from '../sys/index.js';
import type { PreflightCheck, Protocol, SocketError } from '../types.js';
import { requireDuration } from './bind-options.js';
import { diagnoseFailure } from './explain.js';
import { invalidInputError } from './failed.js';
import { toSocketError } from './failure.js';
import { checkFailed, invalid, labelOf } from './preflight-bind.js';
import type { ConnectTarget, PreflightSpec } from './preflight.js';
import { safeConnect } from './safe-connect.js';
import { connectWithNode } from './without-addon.js';

/** A pool this full gets a warning: the service would be near its limit toward that destination. */
export const POOL_WARNING_USAGE = 0.8;
const PROBE_TIMEOUT_MS = 5000;

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
function predicted(plan: ConnectPlan, error: SocketError): Attempt {
  const failure: Attempt = {
    operation: 'connect',
    protocol: plan.protocol,
    error,
    remote: { host: formatHost(plan.remote), port: plan.port, family: plan.remote.family },
    options: {},
  };
  if (plan.localAddress) failure.local = { host: formatHost(plan.localAddress), port: 0 };
  return failure;
}

/**
 * Binds the source address the way a connect would (no port yet), and closes it again. Without the
 * addon, the way Node's own connect binds it: port 0, without IP_BIND_ADDRESS_NO_PORT.
 */
async function checkSource(plan: ConnectPlan, source: ParsedHost): Promise<SocketError | undefined> {
  const reader = hostReader();
  const bound = await reader.probeBind({
    address: source.address,
    family: source.family,
    port: 0,
    protocol: plan.protocol,
    ...(source.scopeId !== undefined ? { scopeId: source.scopeId } : {}),
    ...(source.interface !== undefined ? { interface: source.interface } : {}),
    options: plan.protocol === 'tcp' && reader.kind === 'addon' ? { bindAddressNoPort: true } : {},
  });
  return bound.ok ? undefined : bound.error;
}

/** Throws the TypeError of a connect target of the wrong shape; its values are checked later. */
export function requireConnectTarget(target: unknown): asserts target is string | ConnectTarget {
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

async function planConnect(
  target: string | ConnectTarget,
  spec: PreflightSpec,
): Promise<{ ok: true; plan: ConnectPlan } | { ok: false; check: PreflightCheck }> {
  let host: string;
  let port: number;
  let label: string;
  let extra: Partial<ConnectTarget> = {};
  const given = (h: string, p: number): Omit<Attempt, 'error' | 'invalid'> => ({
    operation: 'connect',
    protocol: extra.protocol ?? 'tcp',
    remote: { host: h, port: p },
    options: {},
  });
  if (typeof target === 'string') {
    label = target;
    const parsed = parseTarget(target, 'connect');
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
      const failure: Attempt = {
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

/**
 * Route types through which a connect can leave; anything else (unreachable, prohibit…) rejects it,
 * and TCP's connect also refuses broadcast and multicast (tcp_v4_connect, tcp_v6_connect).
 */
const USABLE_ROUTES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'anycast']);

export async function checkConnect(
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
    const sourceError = await checkSource(plan, plan.localAddress);
    if (sourceError)
      return checkFailed('connect', plan.label, await diagnoseFailure({ ...predicted(plan, sourceError) }));
  }

  const route = await hostReader().lookupRoute(
    destination,
    plan.localAddress ? { source: plan.localAddress.address } : {},
  );
  if (!route.ok) return fail(socketError('connect', route.errno, where));
  // TCP connects to one host: toward a broadcast or multicast route the kernel refuses it.
  const oneHost = plan.protocol === 'tcp' && (route.type === 'broadcast' || route.type === 'multicast');
  if (!USABLE_ROUTES.has(route.type) || oneHost)
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
    } else if (hostReader().kind !== 'addon') {
      const failed = await connectWithNode({
        host: destination,
        port: plan.port,
        ...(plan.localAddress ? { localAddress: formatHost(plan.localAddress) } : {}),
        timeout: plan.timeout,
        ...(signal ? { signal } : {}),
      });
      if (failed) return checkFailed('connect', plan.label, failed);
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
