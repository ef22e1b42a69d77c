// A plain copy of an error as explain() reads it, made once at the edge. An error is anything a
// library or a user threw, so reading it can run code: a getter that throws, a Proxy whose traps
// throw, a revoked Proxy. Each field is read once, inside its own try; what cannot be read is left
// out, so explain() goes on with the rest instead of rejecting with whatever the getter threw. The
// copy keeps the shape the chain walk needs (`cause`, `errors`, links back to an error already
// copied) within the walk's bounds.
import { MAX_DEPTH, MAX_VISITED } from './error-chain.js';

/** The fields explain() reads of an error, each a primitive (`diagnosis`: an object, kept as is). */
const FIELDS = ['name', 'message', 'code', 'errno', 'syscall', 'address', 'port', 'hostname', 'stack'];

function read(node: object, key: string): unknown {
  try {
    return (node as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** `err` copied as plain data; a primitive is returned as it is (for explain()'s TypeError). */
export function snapshotError(err: unknown): unknown {
  const copies = new Map<object, Record<string, unknown>>();
  let left = MAX_VISITED + 1;
  const copy = (node: unknown, depth: number): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    const known = copies.get(node);
    if (known !== undefined) return known;
    const out: Record<string, unknown> = {};
    copies.set(node, out);
    if (depth > MAX_DEPTH + 1 || left-- <= 0) return out;
    for (const key of FIELDS) {
      const value = read(node, key);
      if (value !== undefined && typeof value !== 'object' && typeof value !== 'function') out[key] = value;
    }
    const diagnosis = read(node, 'diagnosis');
    if (typeof diagnosis === 'object' && diagnosis !== null) out['diagnosis'] = diagnosis;
    let hasCause = false;
    try {
      hasCause = 'cause' in node;
    } catch {
      hasCause = false;
    }
    if (hasCause) out['cause'] = copy(read(node, 'cause'), depth + 1);
    const members = read(node, 'errors');
    let list: unknown[] | undefined;
    try {
      list = Array.isArray(members) ? members.slice(0, MAX_VISITED) : undefined;
    } catch {
      list = undefined;
    }
    if (list !== undefined) out['errors'] = list.map((m) => copy(m, depth + 1));
    return out;
  };
  return copy(err, 0);
}
