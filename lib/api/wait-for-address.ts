// Waiting for an address to become bindable (a VIP keepalived attaches, a DHCP lease, IPv6 DAD):
// event-driven on rtnetlink address notifications, with a slow poll only as a fallback, so the bind
// happens within milliseconds of the address becoming usable and the event loop is never blocked.
import { watchAddresses } from '../host/index.js';
import type { Result, SocketError } from '../types.js';
import { AbortError } from './abort-error.js';
import { startTimer } from './timer.js';

/** Fallback poll while the netlink watch runs: only for a change the watch could not see. */
export const WATCHED_POLL_MS = 1000;
/** Poll when no watch could be opened: then polling is all there is, so it has to be quick. */
export const UNWATCHED_POLL_MS = 50;
/**
 * Re-checks after each notification. The kernel announces an IPv4 address before its local route is
 * in place (rtmsg_ifa runs before the inetaddr notifier that adds it), so a check at once can still
 * see EADDRNOTAVAIL; these follow-ups catch the address a moment later.
 */
const FOLLOW_UP_MS = [5, 25, 100];

export interface RetryOptions {
  /** Milliseconds; Infinity waits without a limit. */
  timeout: number;
  signal?: AbortSignal | undefined;
}

/**
 * Calls `attempt` again whenever an address of this network namespace changes (and on the fallback
 * poll), until it succeeds, fails with an error for which `retryable` is false (waiting cannot fix
 * it), or `timeout` ms have passed: then one last attempt decides. Resolves the deciding Result.
 * Rejects with an AbortError when `signal` aborts; no attempt is made after that, so a socket that an
 * attempt opens is never lost. `attempt` is not called before the first wake-up: the caller has
 * just made one.
 */
export function retryUntil<T>(
  attempt: () => Result<T>,
  retryable: (error: SocketError) => boolean,
  { timeout, signal }: RetryOptions,
): Promise<Result<T>> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError(signal));
      return;
    }
    let done = false;
    const timers = new Set<NodeJS.Timeout>();

    const finish = () => {
      done = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      clearInterval(poll);
      stopDeadline();
      watch?.close();
      signal?.removeEventListener('abort', onAbort);
    };
    const check = (last: boolean) => {
      if (done) return;
      const result = attempt();
      if (result.ok || !retryable(result.error) || last) {
        finish();
        resolve(result);
      }
    };
    const later = (ms: number) => {
      const t = setTimeout(() => {
        timers.delete(t);
        check(false);
      }, ms);
      timers.add(t);
    };
    const onChange = () => {
      check(false);
      if (done) return;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const ms of FOLLOW_UP_MS) later(ms);
    };
    const onAbort = () => {
      if (done) return;
      finish();
      reject(new AbortError(signal));
    };

    const opened = watchAddresses(onChange);
    const watch = opened.ok ? opened.value : undefined;
    const poll = setInterval(() => check(false), watch ? WATCHED_POLL_MS : UNWATCHED_POLL_MS);
    // Any finite timeout, however long (startTimer chains past setTimeout's 2^31-1 ms limit).
    const stopDeadline = startTimer(timeout, () => check(true));
    signal?.addEventListener('abort', onAbort, { once: true });
    // The address may have appeared between the caller's attempt and the subscription: look once more.
    check(false);
  });
}
