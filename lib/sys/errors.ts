// The one place where a negative return from the addon becomes a SocketError (socket2's `syscall!`),
// and where an addon that cannot be loaded becomes the 'ENOTSUP' failure every sys call returns.
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { loadBinding, type NativeBinding } from '../binding.js';
import type { SocketError } from '../types.js';

/**
 * The `syscall` of the failure returned when the addon is not available (not Linux, or no build could
 * be loaded). Its `code` is 'ENOTSUP' and its `message` is `safebind ENOTSUP: <the loader's reason>`;
 * the api layer maps it to the cause `unsupported-platform`.
 */
export const UNSUPPORTED_SYSCALL = 'safebind';

/** Where a failed call was aimed; both parts go into the message the way Node prints them. */
export interface ErrorTarget {
  address?: string;
  port?: number;
  /** Extra words after the code when there is no address, e.g. the option: 'SO_BINDTODEVICE eth9'. */
  detail?: string;
}

/**
 * Builds the SocketError for `errno` (positive or negative). The message is exactly what Node's
 * `ExceptionWithHostPort` prints: `bind EADDRNOTAVAIL 10.0.0.50:8080`, `bind EADDRNOTAVAIL fd00::1:443`
 * (no brackets), and without `:port` when the port is 0. Unlike Node, `port` is kept on the object
 * even when it is 0, because "bind to port 0 failed" is itself evidence (every port of the range taken).
 */
export function socketError(syscall: string, errno: number, target: ErrorTarget = {}): SocketError {
  const positive = Math.abs(errno);
  const code = errnoCode(positive);
  let details = '';
  if (target.address !== undefined && target.port !== undefined && target.port > 0) {
    details = ` ${target.address}:${target.port}`;
  } else if (target.address !== undefined) {
    details = ` ${target.address}`;
  } else if (target.detail !== undefined) {
    details = ` ${target.detail}`;
  }
  const error: SocketError = { syscall, errno: positive, code, message: `${syscall} ${code}${details}` };
  if (target.address !== undefined) error.address = target.address;
  if (target.port !== undefined) error.port = target.port;
  return error;
}

function errnoCode(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    // getSystemErrorName throws for a number it has no name for; keep the number visible instead.
    return `Unknown system error ${errno}`;
  }
}

/** The failed side of every Result: a SocketError and nothing else (no diagnosis yet). */
export type ErrorResult = { ok: false; error: SocketError };

/** The failed Result for a negative return of the addon (socket2's `syscall!` on the JS side). */
export function errnoResult(syscall: string, rc: number, target?: ErrorTarget): ErrorResult {
  return { ok: false, error: socketError(syscall, rc, target) };
}

/**
 * The error of input that names no usable address or port: no syscall was made, so `syscall` is
 * 'safebind' (as for an unsupported platform) and the diagnosis cause is `invalid-address`.
 */
export function invalidInputError(reason: string): SocketError {
  return socketError(UNSUPPORTED_SYSCALL, osConstants.errno.EINVAL, { detail: reason });
}

/** The failure every call returns when the addon is not loaded; `reason` says why (loader's words). */
export function unsupportedError(reason: string): SocketError {
  return {
    syscall: UNSUPPORTED_SYSCALL,
    errno: osConstants.errno.ENOTSUP,
    code: 'ENOTSUP',
    message: `${UNSUPPORTED_SYSCALL} ENOTSUP: ${reason}`,
  };
}

/** True for the failure of a platform or build where the addon cannot run. */
export function isUnsupported(error: SocketError): boolean {
  return error.syscall === UNSUPPORTED_SYSCALL && error.code === 'ENOTSUP';
}

/** The addon, or the unsupported failure to hand back as is. */
export function native(): { ok: true; binding: NativeBinding } | { ok: false; error: SocketError } {
  const load = loadBinding();
  if (load.ok) return load;
  return { ok: false, error: unsupportedError(load.reason) };
}
