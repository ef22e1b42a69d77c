// runChurn(): one connect-churn run, native or node, with its samples, percentiles, errors by code,
// and the first failure explained. Policy lives here; the loops only loop.
import { lookup } from 'node:dns/promises';
import { binding } from '../binding.js';
import { bareAddress } from '../host/sockets.js';
import { parseHost } from '../sys/address.js';
import { errnoResult, socketError } from '../sys/errors.js';
import type { Result, SocketError } from '../types.js';
import { explain } from '../api/explain.js';
import type { Driver, DriverOutcome, DriverPlan, Endpoint } from './driver.js';
import { latencySummary } from './histogram.js';
import { startOwnListener, type OwnListener } from './listener.js';
import { startNativeDriver } from './native-driver.js';
import { startNodeDriver } from './node-driver.js';
import { readPool, Sampler } from './sampler.js';
import type { ChurnFirstFailure, ChurnOptions, ChurnReport } from './types.js';

const DEFAULT_DURATION_MS = 10_000;
const OUTSIDE_TIMEOUT_MS = 5_000;
/** How long the report waits for the own listener to accept what was connected. */
const ACCEPT_GRACE_MS = 1_000;
/** Share of one core the socket-table reads of the samples may take, by mode (see Sampler). */
const NATIVE_TABLE_BUDGET = 0.05;
const NODE_TABLE_BUDGET = 0.01;

function invalid(what: string): Result<never> {
  return { ok: false, error: socketError('safebind', 22, { detail: what }) };
}

function hostPort(address: string, port: number, family: 4 | 6): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function checkTypes(o: ChurnOptions): void {
  if (typeof o !== 'object' || o === null)
    throw new TypeError('runChurn(options): options must be an object');
  const num = (k: keyof ChurnOptions) => {
    if (o[k] !== undefined && typeof o[k] !== 'number')
      throw new TypeError(`runChurn: ${k} must be a number`);
  };
  num('durationMs');
  num('count');
  num('concurrency');
  num('timeoutMs');
  num('sampleIntervalMs');
  num('listenPort');
  if (o.mode !== undefined && o.mode !== 'native' && o.mode !== 'node')
    throw new TypeError(`runChurn: mode must be 'native' or 'node'`);
  if (o.sources !== undefined && (!Array.isArray(o.sources) || o.sources.some((s) => typeof s !== 'string')))
    throw new TypeError('runChurn: sources must be an array of strings');
  if (o.target !== undefined && (typeof o.target.host !== 'string' || typeof o.target.port !== 'number'))
    throw new TypeError('runChurn: target must be { host: string, port: number }');
}

/** Checks values from configuration; returns what is wrong, in words, or undefined. */
function checkValues(o: ChurnOptions): string | undefined {
  const positiveInt = (v: number | undefined) => v === undefined || (Number.isInteger(v) && v > 0);
  if (!positiveInt(o.count)) return `count must be a positive integer, not ${o.count}`;
  if (!positiveInt(o.concurrency)) return `concurrency must be a positive integer, not ${o.concurrency}`;
  if (o.concurrency !== undefined && o.concurrency > 10_000)
    return `concurrency ${o.concurrency} is above 10000`;
  if (o.durationMs !== undefined && !(o.durationMs > 0))
    return `duration must be positive, not ${o.durationMs}`;
  if (o.target && (!Number.isInteger(o.target.port) || o.target.port < 1 || o.target.port > 65535))
    return `target port ${o.target.port} is not in 1-65535`;
  if (o.localPortRange) {
    const [lo, hi] = o.localPortRange;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi)
      return `local port range ${lo}-${hi} is not a range within 1-65535`;
  }
  if (o.bindNoPort && !(o.sources && o.sources.length > 0))
    return 'bindNoPort needs a source address (IP_BIND_ADDRESS_NO_PORT applies to bind(source, 0))';
  for (const s of o.sources ?? []) if (!bareAddress(s)) return `source ${s} is not an IP address`;
  return undefined;
}

/**
 * Everything runChurn would reject, in words, or undefined: the rehearsal checks its options with
 * this before it writes a single sysctl, so a bad option can never leave settings half-changed.
 */
export function churnOptionsProblem(o: ChurnOptions): string | undefined {
  try {
    checkTypes(o);
  } catch (e) {
    return (e as Error).message;
  }
  return checkValues(o);
}

async function resolveTarget(host: string, port: number): Promise<Result<Endpoint>> {
  const parsed = parseHost(host);
  if (parsed.ok) {
    const { address, family, scopeId, interface: zone } = parsed.value;
    return {
      ok: true,
      value: {
        family,
        address,
        port,
        ...(scopeId !== undefined ? { scopeId } : {}),
        ...(zone !== undefined ? { zone } : {}),
      },
    };
  }
  try {
    const found = await lookup(host);
    return { ok: true, value: { family: found.family === 6 ? 6 : 4, address: found.address, port } };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      ok: false,
      error: {
        syscall: 'getaddrinfo',
        errno: 0,
        code: err.code ?? 'ENOTFOUND',
        message: `getaddrinfo ${err.code ?? 'ENOTFOUND'} ${host}`,
      },
    };
  }
}

/** IP_LOCAL_PORT_RANGE is Linux 6.3+: find out before the run, as a typed ENOPROTOOPT failure. */
function probePortRange(family: 4 | 6, range: [number, number]): Result<void> {
  const b = binding();
  const fd = b.socket(family === 6 ? b.constants.AF_INET6 : b.constants.AF_INET, b.constants.SOCK_STREAM);
  if (fd < 0) return errnoResult('socket', fd);
  const rc = b.setLocalPortRange(fd, range[0], range[1]);
  b.close(fd);
  if (rc < 0) return errnoResult('setsockopt', rc, { detail: `IP_LOCAL_PORT_RANGE ${range[0]}-${range[1]}` });
  return { ok: true, value: undefined };
}

async function explainFirst(
  outcome: DriverOutcome,
  target: Endpoint,
  plan: DriverPlan,
): Promise<ChurnFirstFailure | undefined> {
  const f = outcome.firstFailure;
  if (!f) return undefined;
  const source = plan.sources.length > 0 ? plan.sources[(f.attempt - 1) % plan.sources.length] : undefined;
  const error: SocketError =
    f.syscall === 'bind'
      ? socketError('bind', f.errno, { address: source ?? f.local.address, port: 0 })
      : f.syscall === 'connect'
        ? socketError('connect', f.errno, { address: target.address, port: target.port })
        : socketError(f.syscall, f.errno);
  const first: ChurnFirstFailure = {
    attempt: f.attempt,
    atMs: Math.round(f.atNs / 1e5) / 10,
    syscall: f.syscall,
    code: error.code,
    errno: error.errno,
    message: error.message,
    // A socket whose bind failed has no name yet: its local end is the source it was bound to.
    local: hostPort(
      (f.syscall === 'bind' ? source : undefined) ??
        (f.local.address || (target.family === 6 ? '::' : '0.0.0.0')),
      f.local.port,
      target.family,
    ),
    remote: hostPort(target.address, target.port, target.family),
  };
  first.diagnosis = await explain(error, {
    host: target.address,
    port: target.port,
    protocol: 'tcp',
    operation: 'connect',
    ...(source !== undefined ? { localAddress: source } : {}),
    options: { bindAddressNoPort: plan.bindNoPort },
  });
  return first;
}

/**
 * Opens and closes TCP connections as fast as it can, for a duration or a count, `concurrency` at a
 * time, to `target` or to a listener of its own on loopback. Resolves the report (the failures of
 * individual connects are in it, counted and the first explained); fails only when the run could
 * not start.
 */
export async function runChurn(options: ChurnOptions = {}): Promise<Result<ChurnReport>> {
  checkTypes(options);
  const wrong = checkValues(options);
  if (wrong) return invalid(wrong);
  const mode = options.mode ?? 'native';
  const sources = [...(options.sources ?? [])];

  let listener: OwnListener | undefined;
  let target: Endpoint;
  if (options.target) {
    const resolved = await resolveTarget(options.target.host, options.target.port);
    if (!resolved.ok) return resolved;
    target = resolved.value;
  } else {
    const family = sources[0] !== undefined ? (bareAddress(sources[0])?.family ?? 4) : 4;
    const started = startOwnListener(family, options.listenPort ?? 0);
    if (!started.ok) return started;
    listener = started.value;
    target = { family, address: listener.address, port: listener.port };
  }
  try {
    if (options.localPortRange) {
      const probed = probePortRange(target.family, options.localPortRange);
      if (!probed.ok) return probed;
    }
    const plan: DriverPlan = {
      target,
      sources,
      linger0: options.linger0 ?? false,
      bindNoPort: options.bindNoPort ?? false,
      ...(options.localPortRange ? { localPortRange: options.localPortRange } : {}),
      concurrency: options.concurrency ?? 1,
      count: options.count ?? 0,
      durationMs: options.durationMs ?? (options.count ? 0 : DEFAULT_DURATION_MS),
      timeoutMs: options.timeoutMs ?? (listener ? 0 : OUTSIDE_TIMEOUT_MS),
      stopOnError: options.stopOnError ?? false,
    };
    const poolAtStart = readPool(target, sources, options.localPortRange);
    const startedAt = performance.now();
    let driver: Driver;
    if (mode === 'native') {
      const started = startNativeDriver(plan);
      if (!started.ok) return started;
      driver = started.value;
    } else {
      driver = startNodeDriver(plan);
    }
    // In node mode the table reads run on the loop's own thread: every millisecond spent there is
    // a millisecond of connects lost, so they get 1 % instead of 5 %.
    const budget = mode === 'node' ? NODE_TABLE_BUDGET : NATIVE_TABLE_BUDGET;
    const sampler = new Sampler(target, sources, options.localPortRange, startedAt, budget);
    const onAbort = () => driver.cancel();
    if (options.signal?.aborted) driver.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(() => {
      const sample = sampler.take(driver.progress(), performance.now());
      options.onSample?.(sample);
    }, options.sampleIntervalMs ?? 250);
    let outcome: DriverOutcome;
    try {
      outcome = await driver.done;
    } finally {
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    // Let the own listener catch up (accept, then close after each client's FIN) so the last sample
    // sees every client socket in TIME_WAIT rather than some still in FIN_WAIT2.
    const accepted = listener ? await listener.settle(outcome.connects, ACCEPT_GRACE_MS) : 0;
    // One last look at the table: a short run may end between two samples, at its TIME_WAIT peak.
    const last = sampler.take(
      { attempts: outcome.attempts, connects: outcome.connects, errors: outcome.errors },
      startedAt + outcome.elapsedNs / 1e6,
      true,
    );
    options.onSample?.(last);

    const durationMs = Math.round(outcome.elapsedNs / 1e4) / 100;
    const errors: Record<string, number> = {};
    for (const [errno, n] of outcome.errnos) {
      const code = socketError('connect', errno).code;
      errors[code] = (errors[code] ?? 0) + n;
    }
    const report: ChurnReport = {
      mode,
      target: hostPort(
        target.zone ? `${target.address}%${target.zone}` : target.address,
        target.port,
        target.family,
      ),
      connects: outcome.connects,
      durationMs,
      ratePerSec: durationMs > 0 ? Math.round((outcome.connects / durationMs) * 1e4) / 10 : 0,
      latencyUs: latencySummary(outcome.histogram, outcome.latencyMaxNs),
      errors,
      timeWaitPeak: Math.max(0, ...sampler.samples.map((s) => s.timeWait)),
      attempts: outcome.attempts,
      concurrency: plan.concurrency,
      cancelled: outcome.cancelled,
      options: {
        linger0: plan.linger0,
        bindNoPort: plan.bindNoPort,
        sources,
        ...(options.localPortRange ? { localPortRange: options.localPortRange } : {}),
      },
      samples: sampler.samples,
    };
    if (poolAtStart?.range) {
      report.pool = {
        range: poolAtStart.range,
        poolSize: poolAtStart.poolSize,
        sources: Math.max(1, sources.length),
      };
    }
    const first = await explainFirst(outcome, target, plan);
    if (first) report.firstFailure = first;
    if (listener) {
      report.listener = { address: listener.address, port: listener.port, accepted };
    }
    if (outcome.fault) return { ok: false, error: outcome.fault };
    return { ok: true, value: report };
  } finally {
    listener?.close();
  }
}
