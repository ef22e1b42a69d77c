// Interface names and indexes of the calling thread's network namespace: what a `%eth0` scope or a
// SO_BINDTODEVICE name refers to. if_nametoindex(3), if_nameindex(3).
import type { Result } from '../types.js';
import { errnoResult, native } from './errors.js';

/** if_nametoindex(3): the index of the interface; a failure with ENODEV when there is none. */
export function interfaceIndex(name: string): Result<number> {
  if (typeof name !== 'string')
    throw new TypeError(`safebind: interface name must be a string, got ${typeof name}`);
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.ifNameToIndex(name);
  return rc < 0 ? errnoResult('if_nametoindex', rc, { detail: name }) : { ok: true, value: rc };
}

/** if_indextoname(3): the name of the interface; a failure with ENXIO when no interface has the index. */
export function interfaceName(index: number): Result<string> {
  if (!Number.isInteger(index) || index < 0) {
    throw new TypeError(`safebind: interface index must be a non-negative integer, got ${String(index)}`);
  }
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.ifIndexToName(index);
  return typeof rc === 'number'
    ? errnoResult('if_indextoname', rc, { detail: String(index) })
    : { ok: true, value: rc };
}

/** if_nameindex(3): every interface, in index order. */
export function interfaceList(): Result<Array<{ index: number; name: string }>> {
  const n = native();
  if (!n.ok) return n;
  const rc = n.binding.interfaces();
  return typeof rc === 'number' ? errnoResult('if_nameindex', rc) : { ok: true, value: rc };
}
