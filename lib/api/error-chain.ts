// The socket errors inside an error as a client library hands it over. fetch (Node's and undici's)
// rejects with `TypeError: fetch failed` whose `.cause` is the connect or lookup error; Node's
// happy-eyeballs connect to a name with several addresses fails with an AggregateError that has a
// code but no syscall, address or port, its `.errors` holding one error per address tried. The
// walk is bounded in depth and in errors visited, and never visits an object twice, so a cyclic or
// hostile chain cannot hang or exhaust explain().
import { combineDiagnoses, type Member } from '../diagnose/combine.js';
import type { Diagnosis } from '../types.js';

/** How deep the walk goes through `.cause` and `.errors` links. */
export const MAX_DEPTH = 8;
/** How many objects the walk looks at in all. */
export const MAX_VISITED = 64;

/** A socket or lookup error found in the chain, with where it was found ('cause', 'errors[1]'…). */
export interface FoundError {
  error: Record<string, unknown>;
  /** The path from the error handed over: '' for that error itself, 'cause.errors[0]'. */
  path: string;
}

export interface ErrorChain {
  /** The distinct socket errors, in the order found (depth first, `.errors` before `.cause`). */
  found: FoundError[];
  /** How many objects were looked at. */
  visited: number;
  /** The walk stopped at MAX_DEPTH or MAX_VISITED before seeing everything. */
  truncated: boolean;
  /** A `.cause` or `.errors` link led back to an error already seen. */
  cycle: boolean;
  /** `name: message` of each error looked at, for saying what the chain held when nothing matched. */
  seen: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * An error that came from a system call or a lookup: it names its syscall, or its code is an
 * errno name (`ECONNREFUSED`) or a getaddrinfo one (`EAI_AGAIN`). An AggregateError carrying a code
 * but no syscall is a container: its members are the failures.
 */
function isSocketError(e: Record<string, unknown>): boolean {
  if (typeof e['syscall'] === 'string' && e['syscall'] !== '') return true;
  const code = e['code'];
  return typeof code === 'string' && /^(E[A-Z0-9]+|EAI_[A-Z]+)$/.test(code) && !code.startsWith('ERR_');
}

function describe(e: Record<string, unknown>): string {
  const name = typeof e['name'] === 'string' ? e['name'] : 'Error';
  const message = typeof e['message'] === 'string' ? e['message'] : '';
  const code = typeof e['code'] === 'string' ? ` [${e['code']}]` : '';
  return `${name}${code}: ${message}`;
}

/** The same failure twice (a member repeated, or a cause shared) is explained once. */
function keyOf(e: Record<string, unknown>): string {
  return ['syscall', 'code', 'address', 'port', 'hostname'].map((k) => String(e[k] ?? '')).join('|');
}

/** Walks `.errors` and `.cause` from `err`, collecting the distinct socket errors. */
export function walkErrorChain(err: unknown): ErrorChain {
  const chain: ErrorChain = { found: [], visited: 0, truncated: false, cycle: false, seen: [] };
  const seenObjects = new Set<object>();
  const keys = new Set<string>();

  const visit = (node: unknown, path: string, depth: number): void => {
    if (!isObject(node)) return;
    if (seenObjects.has(node)) {
      chain.cycle = true;
      return;
    }
    if (depth > MAX_DEPTH || chain.visited >= MAX_VISITED) {
      chain.truncated = true;
      return;
    }
    seenObjects.add(node);
    chain.visited++;
    chain.seen.push(describe(node));
    const before = chain.found.length;
    const members = node['errors'];
    if (Array.isArray(members)) {
      members.forEach((member, i) => visit(member, `${path}${path ? '.' : ''}errors[${i}]`, depth + 1));
    }
    const memberFound = chain.found.length > before;
    if (isSocketError(node) && !memberFound) {
      const key = keyOf(node);
      if (!keys.has(key)) {
        keys.add(key);
        chain.found.push({ error: node, path });
      }
      // A socket error is the failure itself: what it wraps (rarely anything) is not walked.
      return;
    }
    if (!memberFound && 'cause' in node) visit(node['cause'], `${path}${path ? '.' : ''}cause`, depth + 1);
  };
  visit(err, '', 0);
  return chain;
}

/**
 * Explains `err` as handed over: each distinct socket error in its chain through `explainOne`, then
 * one Diagnosis for all (see combineDiagnoses). When the chain holds no socket error at all (an
 * HTTP 500, a library's own timeout), `unknown` that says so and names what the chain held.
 */
export function explainChain(
  err: object,
  explainOne: (error: Record<string, unknown>) => Diagnosis,
): Diagnosis {
  const chain = walkErrorChain(err);
  const notes: string[] = [];
  if (chain.cycle)
    notes.push('The error chain links back to itself (a .cause cycle); each error was read once.');
  if (chain.truncated) {
    notes.push(
      `The error chain is deeper or wider than explain() walks (${MAX_DEPTH} links, ${MAX_VISITED} errors): the rest was not read.`,
    );
  }
  if (chain.found.length === 0) {
    const top = chain.seen[0] ?? 'Error';
    const d = explainOne({ message: top });
    const looked =
      chain.visited > 1
        ? `Looked at ${chain.visited} errors through .cause and .errors: ${chain.seen.join('; ')}.`
        : 'It has no .cause or .errors to look into.';
    return {
      ...d,
      summary: `Not a socket error: ${top}; nothing in it came from a socket call or a name lookup`,
      details: [
        `${top} is not a failed bind, listen, connect or lookup: it has no syscall and no errno code.`,
        looked,
        ...notes,
      ],
      evidence: { ...d.evidence, chain: chain.seen },
    };
  }
  const members: Member[] = [];
  for (const found of chain.found) {
    members.push({
      path: found.path === '' ? 'the error' : found.path,
      diagnosis: explainOne(found.error),
    });
  }
  const topObject = err as Record<string, unknown>;
  const what = Array.isArray(topObject['errors'])
    ? `${chain.seen[0]} (one error per address tried)`
    : (chain.seen[0] ?? 'The error');
  const d = combineDiagnoses(members, what);
  const only = chain.found[0];
  if (chain.found.length === 1 && only !== undefined && only.path !== '') {
    notes.unshift(`Explained ${describe(only.error)}, found at .${only.path} of ${chain.seen[0]}.`);
  }
  return notes.length > 0 ? { ...d, details: [...d.details, ...notes] } : d;
}

/**
 * Whether a Node 'bind' error is the source-address step of an outbound connection. net.connect and
 * http.request with `localAddress` fail with exactly the fields of a dgram bind to port 0 (syscall
 * 'bind', the source as address, no port); only where Node built it tells them apart: its stack's
 * first frame is net's `internalConnect`. Without a stack (`Error.stackTraceLimit = 0`) it says no,
 * and the caller's `{ operation: 'connect' }` or `{ localAddress }` decides as before.
 */
export function isConnectBindError(err: object): boolean {
  const e = err as Record<string, unknown>;
  if (e['syscall'] !== 'bind' || typeof e['stack'] !== 'string') return false;
  const frame = e['stack'].split('\n').find((line) => line.trimStart().startsWith('at '));
  return frame !== undefined && /\bat internalConnect \(node:net:/.test(frame);
}

/**
 * Whether a Node 'bind' error was made by dgram's Socket#bind. dgram gives no protocol and the same
 * fields as a TCP bind; only where Node built it tells them apart: `exceptionWithHostPort` is called
 * in the lookup callback of dgram.js's bind, so the stack's first frame is in `node:dgram` (Node 20:
 * `at node:dgram:373:20`). Without a stack (`Error.stackTraceLimit = 0`, a rebuilt error) it says no,
 * and the caller's `{ protocol }` or the holders on the port decide.
 */
export function isDgramBindError(err: object): boolean {
  const e = err as Record<string, unknown>;
  if (e['syscall'] !== 'bind' || typeof e['stack'] !== 'string') return false;
  const frame = e['stack'].split('\n').find((line) => line.trimStart().startsWith('at '));
  return frame !== undefined && /\(?node:dgram:\d+:\d+\)?\s*$/.test(frame);
}
