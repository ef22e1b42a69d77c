// The failed result every api call resolves with — the SocketError as it happened plus its diagnosis
// — and the SocketError that stands for input rejected before any system call was made.
import type { Attempt } from '../diagnose/input.js';
import { invalidInputError } from '../sys/index.js';
import type { Diagnosis, SocketError } from '../types.js';
import { diagnoseFailure } from './explain.js';

/** A failure of safeBind, safeListen or safeConnect: the error, and always its diagnosis. */
export interface Failed {
  /** The call failed. */
  ok: false;
  /**
   * The failed system call as data; for input rejected before any syscall, `syscall` is 'safebind'
   * and `code` is 'EINVAL'.
   */
  error: SocketError;
  /** Why it failed, read from the host right after the failure: cause, evidence and fixes. */
  diagnosis: Diagnosis;
}

// The one constructor of that error lives in lib/sys; re-exported for the api's callers.
export { invalidInputError } from '../sys/index.js';

/** Diagnoses the failure (reading the host now) and packs it with the error the caller sees. */
export async function failedWith(
  failure: Attempt,
  error: SocketError,
  how: { probe?: boolean } = {},
): Promise<Failed> {
  return { ok: false, error, diagnosis: await diagnoseFailure(failure, how) };
}

/** A failure of input rejected before any syscall: cause `invalid-address`. */
export async function invalidInput(
  reason: string,
  failure: Omit<Attempt, 'error' | 'invalid'>,
): Promise<Failed> {
  return failedWith({ ...failure, error: null, invalid: reason }, invalidInputError(reason));
}
