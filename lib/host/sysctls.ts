// Reads the network sysctls that decide bind and connect outcomes, for the caller's namespace.
//
// Why readFileSync and not fs.promises: /proc/sys/net answers for the network namespace of the
// *thread* that opens the file, not of the process. An asynchronous read opens the file on one of
// libuv's threadpool threads, and a process whose main thread moved into another namespace
// (setns/unshare on the main thread, as the test helper and some service managers do) would read
// another namespace's values there. A synchronous read opens it on the calling thread.
import { readdirSync, readFileSync } from 'node:fs';
import type { NetSysctls } from './types.js';

const ROOT = '/proc/sys/';

type Reader = { raw: Record<string, string>; unreadable: Record<string, string> };

function read(name: string, into?: Reader): string | undefined {
  try {
    const value = readFileSync(ROOT + name.replaceAll('.', '/'), 'utf8')
      .trim()
      .replace(/\s+/g, ' ');
    if (into) into.raw[name] = value;
    return value;
  } catch (e) {
    if (into) into.unreadable[name] = (e as NodeJS.ErrnoException).code ?? String(e);
    return undefined;
  }
}

function int(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

/**
 * net.ipv4.ip_local_port_range (it also governs IPv6), or undefined when it cannot be read: no
 * default is assumed, since a pool computed from one would be stated as a fact.
 */
export function readPortRange(into?: Reader): [number, number] | undefined {
  const text = read('net.ipv4.ip_local_port_range', into);
  const m = text === undefined ? null : /^(\d+) (\d+)$/.exec(text);
  if (!m) {
    if (into && text !== undefined) into.unreadable['net.ipv4.ip_local_port_range'] = `unparsable: ${text}`;
    return undefined;
  }
  return [Number(m[1]), Number(m[2])];
}

/** net.ipv4.ip_local_reserved_ports ("8080,9000-9010") as inclusive ranges; undefined when unreadable. */
export function readReservedPorts(into?: Reader): Array<[number, number]> | undefined {
  const text = read('net.ipv4.ip_local_reserved_ports', into);
  if (text === undefined) return undefined;
  const out: Array<[number, number]> = [];
  for (const item of text.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(item);
    if (!m) continue;
    const lo = Number(m[1]);
    out.push([lo, m[2] === undefined ? lo : Number(m[2])]);
  }
  return out;
}

/** How many ports of [lo, hi] the reserved ranges cover. */
export function reservedInRange(reserved: Array<[number, number]>, [lo, hi]: [number, number]): number {
  let count = 0;
  for (const [a, b] of reserved) {
    const from = Math.max(a, lo);
    const to = Math.min(b, hi);
    if (to >= from) count += to - from + 1;
  }
  return count;
}

function interfaces(): string[] {
  try {
    return readdirSync(ROOT + 'net/ipv6/conf').filter((name) => name !== 'all' && name !== 'default');
  } catch {
    return [];
  }
}

/** Every sysctl of NetSysctls, for the calling thread's network namespace. Never throws. */
/** Whether a directory of /proc/sys can be listed: tells "no IPv6 in this kernel" from "hidden". */
function listable(name: string): boolean {
  try {
    readdirSync(ROOT + name);
    return true;
  } catch {
    return false;
  }
}

export function readNetSysctls(): NetSysctls {
  const r: Reader = { raw: {}, unreadable: {} };
  const ipLocalPortRange = readPortRange(r);
  const ipLocalReservedPorts = readReservedPorts(r) ?? [];
  const ipNonlocalBind = {
    v4: read('net.ipv4.ip_nonlocal_bind', r) === '1',
    v6: read('net.ipv6.ip_nonlocal_bind', r) === '1',
  };
  const twReuse = read('net.ipv4.tcp_tw_reuse', r);
  const unprivilegedStart = read('net.ipv4.ip_unprivileged_port_start', r);
  const bindv6only = read('net.ipv6.bindv6only', r);

  // No net/ipv6 where net/ipv4 can be read: the kernel has no IPv6. Neither readable: /proc/sys/net
  // is hidden or refused, and nothing is known about IPv6.
  const v6Missing = read('net.ipv6.conf.all.disable_ipv6') === undefined;
  const absent = v6Missing && listable('net/ipv4');
  const disableIpv6: NetSysctls['disableIpv6'] = { absent, all: false, default: false, interfaces: {} };
  const dadTransmits: Record<string, number> = {};
  const acceptDad: Record<string, number> = {};
  if (!v6Missing) {
    for (const scope of ['all', 'default', ...interfaces()]) {
      // Interface names may contain dots (eth0.100); the path keeps them, the dotted name shows them.
      const base = `net.ipv6.conf.${scope}`;
      const path = (leaf: string) => `net/ipv6/conf/${scope}/${leaf}`;
      const get = (leaf: string): string | undefined => {
        const name = `${base}.${leaf}`;
        try {
          const value = readFileSync(ROOT + path(leaf), 'utf8').trim();
          r.raw[name] = value;
          return value;
        } catch (e) {
          r.unreadable[name] = (e as NodeJS.ErrnoException).code ?? String(e);
          return undefined;
        }
      };
      const disabled = get('disable_ipv6') === '1';
      if (scope === 'all') disableIpv6.all = disabled;
      else if (scope === 'default') disableIpv6.default = disabled;
      else disableIpv6.interfaces[scope] = disabled;
      const dad = get('dad_transmits');
      if (dad !== undefined) dadTransmits[scope] = int(dad, 1);
      const accept = get('accept_dad');
      if (accept !== undefined) acceptDad[scope] = int(accept, 1);
    }
  } else {
    r.unreadable['net.ipv6.conf.all.disable_ipv6'] = absent
      ? 'ENOENT'
      : `ENOENT (/proc/sys/net cannot be read: IPv6 unknown)`;
  }
  return {
    ...(ipLocalPortRange ? { ipLocalPortRange } : {}),
    ipLocalReservedPorts,
    ipNonlocalBind,
    ...(twReuse !== undefined ? { tcpTwReuse: int(twReuse, 2) } : {}),
    ...(unprivilegedStart !== undefined ? { ipUnprivilegedPortStart: int(unprivilegedStart, 1024) } : {}),
    ...(bindv6only !== undefined ? { bindv6only: bindv6only === '1' } : {}),
    disableIpv6,
    dadTransmits,
    acceptDad,
    raw: r.raw,
    unreadable: r.unreadable,
  };
}
