// Which failures are a name that did not resolve, rather than a socket call that failed: Node's
// getaddrinfo errors (dns.lookup, and net/http/fetch connecting to a name) and c-ares query errors
// (dns.resolve*). Decided here once, for the gatherer and the decision alike.
import type { SocketError } from '../types.js';

/**
 * The codes of a failed lookup: EAI_AGAIN (the resolver did not answer in time: temporary),
 * ENOTFOUND (Node's name for EAI_NONAME and EAI_NODATA: the name has no address), EAI_FAIL (a
 * resolver error that will not pass), and the raw EAI_ names should a caller build the error itself.
 */
export const NAME_CODES: ReadonlySet<string> = new Set([
  'EAI_AGAIN',
  'ENOTFOUND',
  'EAI_NONAME',
  'EAI_NODATA',
  'EAI_FAIL',
]);

/** getaddrinfo (dns.lookup, net.connect to a name) and c-ares queries (dns.resolve*: queryA, …). */
export function isLookupSyscall(syscall: string): boolean {
  return syscall === 'getaddrinfo' || /^query[A-Z]/.test(syscall);
}

/** Whether the error is a name lookup that failed (whatever its code), not a socket call. */
export function isNameFailure(error: SocketError | null): boolean {
  if (error === null) return false;
  return isLookupSyscall(error.syscall) || (error.syscall === '' && NAME_CODES.has(error.code));
}
