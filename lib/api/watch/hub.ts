// One watcher per process. The package ships an ESM and a CommonJS build, and an application can
// load both (`node -r safebind/register` plus `import { watchErrors } from 'safebind'`); each
// subscription to the platform's hooks would then see every failure twice. The hub lives on
// globalThis under a registered symbol, so whichever build comes first owns the one set of hooks and
// the other adds its consumers to it. A worker thread has its own globalThis, hence its own hub.
//
// A failure is seen, its socket error found and remembered (a WeakSet, so the same error object seen
// by two hooks — the socket's errorMonitor and undici's connectError — counts once), then diagnosed
// on the next turn of the event loop (setImmediate: never on the application's own stack), once per
// distinct failure however many arrive in the same turn. Nothing here throws into the application.
import type { Diagnosis } from '../../types.js';
import { explainNow } from '../explain.js';
import { findExplainable, type Explainable } from './explainable.js';
import type { RateLimiter } from './rate-limit.js';
import { observeFailures } from './sources.js';

/** What a watchErrors report says beside the diagnosis: what failed, and how often since the last report. */
export interface ReportInfo {
  /** What failed to be reached or bound: `10.0.0.50:8080`, `db.invalid`. */
  target: string;
  /** Failures of the same cause and target counted since the last report (0 on the first). */
  repeats: number;
}

export interface Consumer {
  onDiagnosis(diagnosis: Diagnosis, error: unknown, info: ReportInfo): unknown;
  limiter: RateLimiter;
}

interface Hub {
  add(consumer: Consumer): () => void;
}

interface Entry {
  /** The error as the hook handed it over (explained whole: chain notes included). */
  error: unknown;
  found: Explainable;
  /** The consumers that want a diagnosis of it. */
  wanting: Consumer[];
}

const HUB = Symbol.for('safebind.watchErrors.hub.v1');

/** The process's hub, made on first use. */
export function hub(): Hub {
  const slot = globalThis as { [HUB]?: Hub };
  return (slot[HUB] ??= makeHub());
}

function makeHub(): Hub {
  const consumers = new Set<Consumer>();
  const seen = new WeakSet<object>();
  /** Failures waiting for the next turn, grouped by raw key: one diagnosis per group. */
  let pending = new Map<string, Entry[]>();
  let scheduled = false;
  let stopHooks: (() => void) | undefined;

  const observe = (err: unknown): void => {
    try {
      if (consumers.size === 0) return;
      const found = findExplainable(err);
      if (found === undefined || seen.has(found.error)) return;
      seen.add(found.error);
      const now = Date.now();
      const wanting = [...consumers].filter((c) => !c.limiter.repeatOf(found.rawKey, now));
      if (wanting.length === 0) return;
      const group = pending.get(found.rawKey);
      if (group === undefined) pending.set(found.rawKey, [{ error: err, found, wanting }]);
      else group.push({ error: err, found, wanting });
      if (!scheduled) {
        scheduled = true;
        // Ref'd on purpose: a process that would exit now still exits, one turn later, having said why.
        setImmediate(flush);
      }
    } catch {
      // Watching must never become the application's failure.
    }
  };

  const flush = (): void => {
    scheduled = false;
    const groups = pending;
    pending = new Map();
    for (const group of groups.values()) {
      try {
        report(group);
      } catch {
        // As above: a diagnosis that fails is a diagnosis not printed, nothing more.
      }
    }
  };

  const report = (group: Entry[]): void => {
    const first = group[0];
    if (first === undefined) return;
    const diagnosis = explainNow(first.error);
    const key = `${diagnosis.cause} ${first.found.target}`;
    const now = Date.now();
    for (const entry of group) {
      for (const consumer of entry.wanting) {
        if (!consumers.has(consumer)) continue;
        const repeats = consumer.limiter.admit(entry.found.rawKey, key, now);
        if (repeats === undefined) continue;
        deliver(consumer, diagnosis, entry.error, { target: first.found.target, repeats });
      }
    }
  };

  const sink = {
    observe,
    // The process is about to die of `err` (or exit): no later turn will come, so what is pending is
    // explained now, the fatal error first seen here included.
    atDeath(err: unknown): void {
      if (err !== undefined) observe(err);
      if (pending.size > 0) flush();
    },
  };

  return {
    add(consumer) {
      consumers.add(consumer);
      stopHooks ??= observeFailures(sink);
      return () => {
        consumers.delete(consumer);
        if (consumers.size === 0 && stopHooks !== undefined) {
          stopHooks();
          stopHooks = undefined;
        }
      };
    },
  };
}

function deliver(consumer: Consumer, diagnosis: Diagnosis, error: unknown, info: ReportInfo): void {
  try {
    const result = consumer.onDiagnosis(diagnosis, error, info);
    // An async callback that rejects must not become an unhandled rejection of the application.
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      (result as Promise<unknown>).then(undefined, () => undefined);
    }
  } catch {
    // The callback's own failure stays with the callback.
  }
}
