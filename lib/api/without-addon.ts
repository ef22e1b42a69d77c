// preflight's checks without the addon, through Node's own sockets. A bind target is bound with the
// no-addon host reader's probe, closed at once, and waited for by polling (there are no address
// notifications without rtnetlink); options only the addon can set fail as `unsupported-platform`
// saying so. A probed connect target is connected with net.connect and its error explained.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostReader } from '../host/index.js';
import type { Diagnosis, Result } from '../types.js';
import { AbortError } from './abort-error.js';
import { bindFailure, type BindPlan } from './bind-options.js';
import { failedWith } from './failed.js';
import { boundSocket, waitableFor, type BindResult } from './safe-bind.js';
import { UNWATCHED_POLL_MS } from './wait-for-address.js';
import { explain } from './explain.js';

/** Binds per the plan with a Node socket and closes it; the socket resolved is already closed. */
export async function probePlan(
  plan: BindPlan,
  { onWait, probe = false }: { onWait?: () => void; probe?: boolean } = {},
): Promise<BindResult> {
  const signal = plan.signal;
  if (signal?.aborted) throw new AbortError(signal);
  const reader = hostReader();
  const attempt = (): Promise<Result<{ port: number }>> =>
    reader.probeBind({
      address: plan.host.address,
      family: plan.host.family,
      port: plan.port,
      protocol: plan.protocol,
      ...(plan.host.scopeId !== undefined ? { scopeId: plan.host.scopeId } : {}),
      ...(plan.host.interface !== undefined ? { interface: plan.host.interface } : {}),
      options: plan.socketOptions,
    });
  const deadline = Date.now() + plan.waitForAddress;
  const canWait = waitableFor(plan);
  let result = await attempt();
  if (!result.ok && plan.waitForAddress > 0 && canWait(result.error)) {
    onWait?.();
    while (!result.ok && canWait(result.error) && Date.now() < deadline) {
      try {
        await sleep(Math.min(UNWATCHED_POLL_MS, Math.max(0, deadline - Date.now())), undefined, {
          ...(signal ? { signal } : {}),
        });
      } catch {
        throw new AbortError(signal);
      }
      result = await attempt();
    }
  }
  if (signal?.aborted) throw new AbortError(signal);
  if (result.ok) {
    const socket = boundSocket(-1, plan, result.value.port);
    socket.close = () => {}; // closed by the probe already
    return { ok: true, socket };
  }
  return failedWith({ ...bindFailure(plan), error: result.error }, result.error, { probe });
}

/**
 * Connects to `host:port` (from `localAddress` when given) with net.connect and closes at once:
 * undefined when it connected, else the diagnosis of Node's error. A timeout is ETIMEDOUT.
 */
export function connectWithNode(target: {
  host: string;
  port: number;
  localAddress?: string;
  timeout: number;
  signal?: AbortSignal;
}): Promise<Diagnosis | undefined> {
  const context = {
    host: target.host,
    port: target.port,
    protocol: 'tcp' as const,
    operation: 'connect' as const,
    ...(target.localAddress !== undefined ? { localAddress: target.localAddress } : {}),
  };
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      ...(target.localAddress !== undefined ? { localAddress: target.localAddress } : {}),
      ...(target.signal ? { signal: target.signal } : {}),
    });
    socket.setTimeout(target.timeout, () => {
      const e = Object.assign(new Error(`connect ETIMEDOUT ${target.host}:${target.port}`), {
        code: 'ETIMEDOUT',
        syscall: 'connect',
        address: target.host,
        port: target.port,
      });
      socket.destroy(e);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (e) => {
      if (target.signal?.aborted) reject(new AbortError(target.signal));
      else explain(e, context).then(resolve, reject);
    });
  });
}
