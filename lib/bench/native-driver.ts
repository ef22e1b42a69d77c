// `--mode native`: the connect/close loop runs in the addon on a thread of its own, so what it
// measures is the kernel's cost; this side only reads its progress and shapes its result.
import { binding } from '../binding.js';
import type { Result } from '../types.js';
import { errnoResult, socketError } from '../sys/errors.js';
import type { Driver, DriverOutcome, DriverPlan, DriverProgress } from './driver.js';
import { newLatencyHistogram, recordPairs } from './histogram.js';

const SLOTS = 5;

export function startNativeDriver(plan: DriverPlan): Result<Driver> {
  const b = binding();
  const c = b.constants;
  const family = plan.target.family === 6 ? c.AF_INET6 : c.AF_INET;
  const progress = new ArrayBuffer(SLOTS * 8);
  const view = new Float64Array(progress);
  let resolveDone: (outcome: DriverOutcome) => void = () => {};
  const done = new Promise<DriverOutcome>((resolve) => {
    resolveDone = resolve;
  });
  const id = b.churnStart(
    {
      target: {
        family,
        address: plan.target.address,
        port: plan.target.port,
        scopeId: plan.target.scopeId ?? 0,
      },
      sources: plan.sources.map((address) => ({ family, address, port: 0, scopeId: 0 })),
      linger0: plan.linger0,
      bindNoPort: plan.bindNoPort,
      portLo: plan.localPortRange?.[0] ?? 0,
      portHi: plan.localPortRange?.[1] ?? 0,
      concurrency: plan.concurrency,
      count: plan.count,
      durationMs: plan.durationMs,
      timeoutMs: plan.timeoutMs,
      stopOnError: plan.stopOnError,
    },
    progress,
    (r) => {
      const histogram = newLatencyHistogram();
      recordPairs(histogram, r.latency);
      const outcome: DriverOutcome = {
        attempts: r.attempts,
        connects: r.connects,
        errors: r.errors,
        elapsedNs: r.elapsedNs,
        cancelled: r.cancelled,
        histogram,
        latencyMaxNs: r.latencyMaxNs,
        errnos: new Map(r.errnos.map((e) => [e.errno, e.count])),
      };
      if (r.setupError) outcome.fault = socketError(r.setupError.syscall, r.setupError.errno);
      if (r.firstFailure) {
        const f = r.firstFailure;
        outcome.firstFailure = {
          errno: f.errno,
          syscall: f.syscall,
          attempt: f.attempt,
          atNs: f.atNs,
          local: { address: f.local.address, port: f.local.port },
        };
      }
      resolveDone(outcome);
    },
  );
  if (id < 0) return errnoResult('pthread_create', id);
  return {
    ok: true,
    value: {
      progress(): DriverProgress {
        return { attempts: view[0] ?? 0, connects: view[1] ?? 0, errors: view[2] ?? 0 };
      },
      cancel() {
        b.churnCancel(id);
      },
      done,
    },
  };
}
