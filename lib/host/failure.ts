// How the host readers fail: lib/sys's one SocketError constructor and its ErrorResult, so every
// layer fails the same way.
import { invalidInputError, native, type ErrorResult } from '../sys/errors.js';

/** Input that names no usable address or port: no syscall was made. */
export function invalidInput(what: string): ErrorResult {
  return { ok: false, error: invalidInputError(what) };
}

/** The addon, or the typed failure saying why there is none. */
export const hostBinding = native;
