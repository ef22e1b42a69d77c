// The one timer every timeout of the api goes through (waitForAddress, safeConnect's timeout,
// preflight's wait and probe timeout). Node's setTimeout fires after 1 ms, with a
// TimeoutOverflowWarning, for any delay above 2^31-1 ms (24.8 days); a timeout a person wrote as
// "30 days" or as Number.MAX_SAFE_INTEGER must mean what it says, so longer delays are chained.

/** The longest delay setTimeout honours: a signed 32-bit number of milliseconds. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Stops a timer started by {@link startTimer}; calling it again, or after it fired, does nothing. */
export type CancelTimer = () => void;

/**
 * Calls `fire` once, `ms` milliseconds from now, for any finite delay (chaining setTimeout when it is
 * longer than {@link MAX_TIMER_MS}). `undefined` and `Infinity` mean no timeout: nothing is
 * scheduled. With `unref`, the timer does not keep the process alive, as `timeout.unref()`.
 */
export function startTimer(
  ms: number | undefined,
  fire: () => void,
  opts: { unref?: boolean } = {},
): CancelTimer {
  if (ms === undefined || !Number.isFinite(ms)) return () => {};
  const due = Date.now() + Math.max(0, ms);
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number) => {
    timer = setTimeout(
      () => {
        const rest = due - Date.now();
        if (rest > 0 && left > MAX_TIMER_MS) arm(rest);
        else {
          timer = undefined;
          fire();
        }
      },
      Math.min(left, MAX_TIMER_MS),
    );
    if (opts.unref === true) timer.unref();
  };
  arm(Math.max(0, ms));
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
