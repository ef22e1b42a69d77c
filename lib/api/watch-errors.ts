// watchErrors(): every bind, listen, connect or lookup failure raised anywhere in the process —
// net, http, dgram, undici and fetch, and the client libraries built on them — diagnosed and handed
// to a callback, without a change to the application. safebind/register is this with a stderr
// printer. How failures are seen is lib/api/watch/sources.ts; how often they are reported,
// lib/api/watch/rate-limit.ts.
import type { Diagnosis } from '../types.js';
import { hub, type ReportInfo } from './watch/hub.js';
import { DEFAULT_WINDOW_MS, RateLimiter } from './watch/rate-limit.js';

export type { ReportInfo } from './watch/hub.js';

/** What {@link watchErrors} calls, and how often. */
export interface WatchErrorsOptions {
  /**
   * Called with the diagnosis of a failure and the error as it was raised (the same object the
   * application received). Once per cause and target per `windowMs`; `info.repeats` counts the
   * failures of that cause and target left out since the last call. Runs on a later turn of the
   * event loop than the failure; what it throws or rejects with is ignored.
   */
  onDiagnosis(diagnosis: Diagnosis, error: unknown, info: ReportInfo): unknown;
  /** How long a (cause, target) stays quiet after a report, in milliseconds. Default 60000. */
  windowMs?: number;
}

/**
 * Watches every socket failure of the process and diagnoses the ones safebind explains
 * (EADDRNOTAVAIL, EADDRINUSE, EACCES on bind, ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EAI_AGAIN,
 * ENOTFOUND, EAGAIN on a UDP connect), through the platform's own hooks (diagnostics_channel and
 * `EventEmitter.errorMonitor`): the application sees the same error object, the same events in
 * the same order, and an error nobody handles is still uncaught. A process dying of such an error
 * is explained before it goes. Returns the function that stops watching.
 *
 * Throws a TypeError when `onDiagnosis` is not a function or `windowMs` is not a positive number.
 *
 * @example
 * const stop = watchErrors({ onDiagnosis: (d, err, { target }) => log.warn({ target, cause: d.cause }, d.summary) });
 */
export function watchErrors(options: WatchErrorsOptions): () => void {
  if (typeof options !== 'object' || options === null || typeof options.onDiagnosis !== 'function') {
    throw new TypeError('watchErrors(): onDiagnosis must be a function');
  }
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
    throw new TypeError(
      `watchErrors(): windowMs must be a positive number of milliseconds, got ${String(windowMs)}`,
    );
  }
  const onDiagnosis = options.onDiagnosis.bind(options);
  const remove = hub().add({ onDiagnosis, limiter: new RateLimiter(windowMs) });
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    remove();
  };
}
