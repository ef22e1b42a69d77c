// The failed result every api call resolves with — the SocketError as it happened plus its diagnosis
// — and the SocketError that stands for input rejected before any system call was made.
import { constants as osConstants } from 'node:os';
import type { Failure } from '../diagnose/input.js';
import { UNSUPPORTED_SYSCALL } from '../sys/index.js';
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

/**
 * The error of input that names no usable address or port. No syscall was made, so `syscall` is
 * 'safebind' (as for an unsupported platform) and the diagnosis cause is `invalid-address`.
 */
export function invalidInputError(reason: string): SocketError {
  return {
    syscall: UNSUPPORTED_SYSCALL,
    errno: osConstants.errno.EINVAL,
    code: 'EINVAL',
    message: `${UNSUPPORTED_SYSCALL} EINVAL ${reason}`,
  };
}

/** Diagnoses the failure (reading the host now) and packs it with the error the caller sees. */
export async function failedWith(
  failure: Failure,
  error: SocketError,
  how: { probe?: boolean } = {},
): Promise<Failed> {
  return { ok: false, error, diagnosis: await diagnoseFailure(failure, how) };
}

/** A failure of input rejected before any syscall: cause `invalid-address`. */
export async function invalidInput(
  reason: string,
  failure: Omit<Failure, 'error' | 'invalid'>,
): Promise<Failed> {
  return failedWith({ ...failure, error: null, invalid: reason }, invalidInputError(reason));
}
