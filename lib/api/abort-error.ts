// The rejection of an operation cancelled through its AbortSignal, shaped as Node's own: aborting is
// the caller's decision, not a failure of the host, so it rejects (as fs, timers/promises and
// events.once do) instead of resolving a failure with a diagnosis.

/** Rejected when the `signal` of safeBind, safeListen, safeConnect or preflight aborts. */
export class AbortError extends Error {
  /** 'ABORT_ERR', as Node's AbortError. */
  readonly code = 'ABORT_ERR';
  /** 'AbortError', as Node's AbortError, so `err.name === 'AbortError'` checks work unchanged. */
  override name = 'AbortError';
  constructor(signal?: { readonly reason?: unknown }) {
    super('The operation was aborted', signal?.reason !== undefined ? { cause: signal.reason } : undefined);
  }
}

/** Throws a TypeError unless `signal` is absent or an AbortSignal. */
export function requireSignal(signal: unknown, where: string): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: signal must be an AbortSignal`);
  }
}

/**
 * What the internal connects need of an AbortSignal: an AbortSignal is one; the agent's per-connection
 * placeholder is a cheaper one (an AbortController per connection cost ~10 µs of a ~110 µs request).
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
