// The TypeErrors of lib/sys: a wrong type or shape is a bug in the caller, thrown before the addon
// is reached (the addon would answer EINVAL, indistinguishable from the kernel's).
import { isIP } from 'node:net';
import type { Family } from '../types.js';
import type { SockAddr } from './address.js';

/** Throws a TypeError unless `fd` can be a descriptor: a wrong type is a bug, not a runtime failure. */
export function requireFd(fd: unknown): asserts fd is number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw new TypeError(`safebind: fd must be a non-negative integer, got ${String(fd)}`);
  }
}

/** Throws a TypeError unless `family` is 4 or 6. */
export function requireFamily(family: unknown): asserts family is Family {
  if (family !== 4 && family !== 6)
    throw new TypeError(`safebind: family must be 4 or 6, got ${String(family)}`);
}

export function requireSockAddr(addr: SockAddr): void {
  if (typeof addr !== 'object' || addr === null)
    throw new TypeError('safebind: expected { address, port, family }');
  requireFamily(addr.family);
  if (typeof addr.address !== 'string' || isIP(addr.address) !== addr.family) {
    // The addon would answer EINVAL, indistinguishable from the kernel's: refuse it here instead.
    throw new TypeError(
      `safebind: ${JSON.stringify(addr.address)} is not an IPv${addr.family} address; parse it with parseHost() first`,
    );
  }
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) {
    throw new TypeError(`safebind: port must be an integer 0-65535, got ${String(addr.port)}`);
  }
  if (addr.scopeId !== undefined && (!Number.isInteger(addr.scopeId) || addr.scopeId < 0)) {
    throw new TypeError(`safebind: scopeId must be a non-negative integer, got ${String(addr.scopeId)}`);
  }
}
