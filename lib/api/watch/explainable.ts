// Which errors watchErrors explains: a bind, listen, connect or lookup failure with one of the codes
// safebind has a cause for, found in the error itself or in its `.cause` / `.errors` chain (fetch's
// TypeError, happy-eyeballs' AggregateError). Everything else (ECONNRESET, EPIPE, an HTTP 500) is
// the application's business and passes unseen.
import { formatEndpoint } from '../../diagnose/text.js';
import { printable } from '../../diagnose/shell.js';
import { walkErrorChain } from '../error-chain.js';

/** Codes explained whatever the syscall. */
const ANY_SYSCALL = new Set([
  'EADDRNOTAVAIL',
  'EADDRINUSE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNREFUSED',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** The socket error of a chain that watchErrors explains. */
export interface Explainable {
  /** The socket or lookup error itself (the chain's member). */
  error: Record<string, unknown>;
  /** Its code, syscall, address, port and name: equal keys are the same failure again. */
  rawKey: string;
  /** What failed to be reached or bound, as a person reads it: `10.0.0.50:8080`, `db.invalid`. */
  target: string;
}

function explained(e: Record<string, unknown>): boolean {
  const code = e['code'];
  if (typeof code !== 'string') return false;
  if (ANY_SYSCALL.has(code)) return true;
  const syscall = e['syscall'];
  // EACCES is a privileged port only on a bind or listen; EAGAIN a full pool only on a (UDP) connect.
  if (code === 'EACCES') return syscall === 'bind' || syscall === 'listen';
  if (code === 'EAGAIN') return syscall === 'connect';
  return false;
}

function targetOf(e: Record<string, unknown>): string {
  const address = typeof e['address'] === 'string' ? e['address'] : undefined;
  const port = typeof e['port'] === 'number' ? e['port'] : undefined;
  const hostname = typeof e['hostname'] === 'string' ? e['hostname'] : undefined;
  if (address !== undefined) return printable(formatEndpoint(address, port));
  if (hostname !== undefined) return printable(hostname);
  return 'an unnamed endpoint';
}

/** The first explainable socket error in `err`'s chain, or undefined when there is none. */
export function findExplainable(err: unknown): Explainable | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const found = walkErrorChain(err).found.find((f) => explained(f.error));
  if (found === undefined) return undefined;
  const e = found.error;
  const rawKey = ['code', 'syscall', 'address', 'port', 'hostname'].map((k) => String(e[k] ?? '')).join('|');
  return { error: e, rawKey, target: targetOf(e) };
}
