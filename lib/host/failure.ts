// How the host readers fail, built on lib/sys's one errno-to-SocketError constructor so every layer
// fails the same way: a SocketError from the addon's negative errno, the typed "unsupported"
// failure when there is no addon (syscall 'safebind', code 'ENOTSUP'), or EINVAL for input that
// names no usable address or port (no syscall made).
import { constants as osConstants } from 'node:os';
import { native, socketError } from '../sys/errors.js';
import type { SocketError } from '../types.js';

export type Failed = { ok: false; error: SocketError };

/** A failure for a negative errno returned by the addon; `subject` is what the call was about. */
export function errnoFailure(syscall: string, errno: number, subject?: string): Failed {
  return { ok: false, error: socketError(syscall, errno, subject !== undefined ? { detail: subject } : {}) };
}

/** Input that names no usable address or port: no syscall was made. */
export function invalidInput(what: string): Failed {
  return { ok: false, error: socketError('safebind', osConstants.errno.EINVAL, { detail: what }) };
}

/** The addon, or the typed failure saying why there is none. */
export const hostBinding = native;
