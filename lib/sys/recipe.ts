// The one socket recipe, used wherever safebind makes a socket: socket(2), the options of the table
// in its order, an optional bind, and the descriptor closed on any failure along the way.
import type { Family, Protocol, Result } from '../types.js';
import type { SockAddr } from './address.js';
import { setOption, SOCKET_OPTIONS, type OptionName, type SocketOptions } from './options.js';
import { bind, closeSocket, newSocket } from './socket.js';

/** What openSocket() makes. */
export interface SocketSpec {
  family: Family;
  protocol: Protocol;
  /**
   * Options to set, by table name; those left out (or undefined) are not touched. Applied in the
   * table's order; an option for the other family only (ipv6Only on IPv4) is skipped.
   */
  options?: SocketOptions;
  /** The address to bind, after the options. */
  bind?: SockAddr;
}

const ORDER = Object.keys(SOCKET_OPTIONS) as OptionName[];
const RANK = new Map(ORDER.map((name, i) => [name, i]));

/**
 * The options set in `options`, in the table's order: a client's connection sets one or two, so the
 * few keys given are ranked rather than every name of the table looked up per socket.
 */
function inOrder(options: SocketOptions | undefined): OptionName[] {
  if (options === undefined) return [];
  const names: OptionName[] = [];
  for (const name in options) {
    if (options[name as OptionName] !== undefined && RANK.has(name as OptionName))
      names.push(name as OptionName);
  }
  if (names.length > 1) names.sort((a, b) => RANK.get(a)! - RANK.get(b)!);
  return names;
}

/**
 * socket(2) → setsockopt(2) for each option → bind(2). Returns the descriptor, or the first
 * failure with the descriptor already closed: no path leaves one open.
 */
export function openSocket(spec: SocketSpec): Result<number> {
  const opened = newSocket(spec.family, spec.protocol);
  if (!opened.ok) return opened;
  const fd = opened.value;
  const fail = <T>(failed: Result<T>): Result<number> => {
    closeSocket(fd);
    return failed as Result<number>;
  };
  for (const name of inOrder(spec.options)) {
    const value = spec.options![name];
    const families: readonly Family[] | undefined = (SOCKET_OPTIONS[name] as { families?: readonly Family[] })
      .families;
    if (families !== undefined && !families.includes(spec.family)) continue;
    let set: Result<void>;
    try {
      set = setOption(fd, spec.family, name, value as never);
    } catch (e) {
      closeSocket(fd);
      throw e;
    }
    if (!set.ok) return fail(set);
  }
  if (spec.bind !== undefined) {
    let bound: Result<void>;
    try {
      bound = bind(fd, spec.bind);
    } catch (e) {
      closeSocket(fd);
      throw e;
    }
    if (!bound.ok) return fail(bound);
  }
  return opened;
}
