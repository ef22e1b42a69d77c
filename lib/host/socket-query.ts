// The socket-table query as sock_diag takes it: state names both ways (ss's names for UDP), the
// checked query turned into the native one, and what to do when sock_diag is refused.
import { isIP } from 'node:net';
import type { NativeConstants, NativeSocketQuery } from '../binding.js';
import type { Family, Result } from '../types.js';
import { type ErrorResult } from '../sys/errors.js';
import { invalidInput } from './failure.js';
import type { SocketQuery } from './types.js';

// ss names UDP's two states this way; the kernel numbers them as TCP_CLOSE and TCP_ESTABLISHED.
const UDP_NAMES: Record<string, string> = { CLOSE: 'UNCONN', ESTABLISHED: 'ESTAB' };
const UDP_ALIASES: Record<string, string> = { UNCONN: 'CLOSE', ESTAB: 'ESTABLISHED' };

/**
 * The TCP states a walk leaves out when it counts sockets toward destinations, or by state as
 * `ss -tan` does: LISTEN, and BOUND_INACTIVE — sockets only bound, which Linux 6.5 and later dump
 * when asked (ss does not list them). Neither has a peer. Asking for BOUND_INACTIVE also makes the
 * kernel walk the bind hash, one locked bucket per bound port, TIME_WAIT sockets' ports included: on
 * a table of 200,000 TIME_WAIT sockets that walk was most of the dump (docs/kernel-facts.md).
 */
export const NO_PEER_STATES: readonly string[] = ['LISTEN', 'BOUND_INACTIVE'];

// Errors that mean "this process may not use sock_diag", not "the query is wrong".
export const REFUSED = new Set(['EPERM', 'EACCES', 'EPROTONOSUPPORT']);

/** Strips [brackets] and a %zone; returns the bare literal and its family, or undefined. */
export function bareAddress(text: string): { address: string; family: Family } | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const v = isIP(s);
  return v === 4 || v === 6 ? { address: s, family: v } : undefined;
}

/** The constants a socket-table query needs: the addon's, or the fallback's (lib/host/fallback). */
export type TableBinding = {
  constants: Pick<
    NativeConstants,
    'AF_UNSPEC' | 'AF_INET' | 'AF_INET6' | 'IPPROTO_TCP' | 'IPPROTO_UDP' | 'tcpStates'
  >;
};

export type StateNames = { byNumber: string[]; mask(names: readonly string[]): number };

export function stateNames(b: TableBinding, udp: boolean): StateNames {
  const byNumber: string[] = [];
  for (const [name, n] of Object.entries(b.constants.tcpStates))
    byNumber[n] = udp ? (UDP_NAMES[name] ?? name) : name;
  return {
    byNumber,
    mask(names) {
      let m = 0;
      for (const raw of names) {
        const name = raw.toUpperCase().replaceAll('-', '_');
        const n = b.constants.tcpStates[(udp ? UDP_ALIASES[name] : undefined) ?? name];
        if (n === undefined) throw new TypeError(`unknown socket state '${raw}'`);
        m |= 1 << n;
      }
      return m >>> 0;
    },
  };
}

export function nameOf(names: StateNames, n: number): string {
  return names.byNumber[n] ?? `STATE_${n}`;
}

export type Prepared = { native: NativeSocketQuery; names: StateNames; protocol: 'tcp' | 'udp' };

function checkPort(port: number | undefined, what: string): void {
  if (port === undefined) return;
  if (typeof port !== 'number') throw new TypeError(`${what} port must be a number`);
}

export function prepare(b: TableBinding, q: SocketQuery): Prepared | ErrorResult {
  const protocol = q.protocol ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') throw new TypeError(`protocol must be 'tcp' or 'udp'`);
  const c = b.constants;
  const names = stateNames(b, protocol === 'udp');
  let states = q.states ? names.mask(q.states) : 0;
  if (q.excludeStates) states = ((states || 0xffffffff) & ~names.mask(q.excludeStates)) >>> 0;
  const native: NativeSocketQuery = {
    protocol: protocol === 'tcp' ? c.IPPROTO_TCP : c.IPPROTO_UDP,
    family: q.family === 4 ? c.AF_INET : q.family === 6 ? c.AF_INET6 : c.AF_UNSPEC,
    // A mask that excluded every state would read as "all" (0): keep one impossible bit instead.
    states: q.excludeStates && states === 0 ? 1 << 31 : states,
  };
  for (const [key, end] of [
    ['dst', q.remote],
    ['src', q.local],
  ] as const) {
    if (!end) continue;
    checkPort(end.port, key);
    if (end.port !== undefined && (!Number.isInteger(end.port) || end.port < 0 || end.port > 65535))
      return invalidInput(`port ${end.port}`);
    const e: { address?: string; port?: number } = {};
    if (end.address !== undefined && end.address !== '') {
      if (typeof end.address !== 'string') throw new TypeError(`${key} address must be a string`);
      const bare = bareAddress(end.address);
      if (!bare) return invalidInput(`address ${end.address}`);
      e.address = bare.address;
    }
    if (end.port) e.port = end.port;
    native[key] = e;
  }
  return { native, names, protocol };
}

/**
 * The /proc/net answer when sock_diag was refused; when /proc/net fails too, its failure with both
 * reasons in the message, so a report says why neither could be read.
 */
export function bothRefused<T>(diag: ErrorResult, proc: Result<T>): Result<T> {
  if (proc.ok) return proc;
  const message = `sock_diag refused (${diag.error.code}) and /proc/net unreadable (${proc.error.message})`;
  return { ok: false, error: { ...proc.error, message } };
}
