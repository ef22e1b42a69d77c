// Tells when interface addresses change (added, removed, DAD finished, carrier back), so a caller
// waiting for an address to become bindable re-checks on the event instead of polling.
import type { Result } from '../types.js';
import { errnoResult } from '../sys/errors.js';
import { hostBinding } from './failure.js';

export interface AddressWatch {
  /** Stops watching and closes the netlink socket. Safe to call more than once. */
  close(): void;
}

/**
 * Calls `onChange` (no arguments; read the addresses again) after IPv4/IPv6 address or link changes
 * in the calling thread's network namespace. Bursts are coalesced into one call per wake-up. The
 * watch keeps the event loop alive until closed; it is closed for you when the environment ends.
 */
export function watchAddresses(onChange: () => void): Result<AddressWatch> {
  if (typeof onChange !== 'function')
    throw new TypeError('watchAddresses(onChange): onChange must be a function');
  const load = hostBinding();
  if (!load.ok) return load;
  const handle = load.binding.watchAddresses(onChange);
  if (typeof handle === 'number') return errnoResult('netlink', handle);
  return { ok: true, value: { close: () => handle.close() } };
}
