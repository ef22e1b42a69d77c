// The socket table, counted or listed with the filtering done in the kernel (sock_diag, as ss does),
// and a /proc/net/{tcp,udp}{,6} reader used only when netlink sock_diag is refused to this process.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { isIP } from 'node:net';
import { endianness } from 'node:os';
import type { NativeBinding, NativeSocketEntry, NativeSocketQuery } from '../binding.js';
import type { Family, Result } from '../types.js';
import { errnoFailure, hostBinding, invalidInput, type Failed } from './failure.js';
import { formatIpBytes } from '../sys/ip-text.js';
import type {
  RemoteGroup,
  RemoteTally,
  SocketCounts,
  SocketEntry,
  SocketList,
  SocketQuery,
  SocketSource,
} from './types.js';

// ss names UDP's two states this way; the kernel numbers them as TCP_CLOSE and TCP_ESTABLISHED.
const UDP_NAMES: Record<string, string> = { CLOSE: 'UNCONN', ESTABLISHED: 'ESTAB' };
const UDP_ALIASES: Record<string, string> = { UNCONN: 'CLOSE', ESTAB: 'ESTABLISHED' };

// Errors that mean "this process may not use sock_diag", not "the query is wrong".
const REFUSED = new Set(['EPERM', 'EACCES', 'EPROTONOSUPPORT']);

/** Strips [brackets] and a %zone; returns the bare literal and its family, or undefined. */
export function bareAddress(text: string): { address: string; family: Family } | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const v = isIP(s);
  return v === 4 || v === 6 ? { address: s, family: v } : undefined;
}

type StateNames = { byNumber: string[]; mask(names: string[]): number };

function stateNames(b: NativeBinding, udp: boolean): StateNames {
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

function nameOf(names: StateNames, n: number): string {
  return names.byNumber[n] ?? `STATE_${n}`;
}

type Prepared = { native: NativeSocketQuery; names: StateNames; protocol: 'tcp' | 'udp' };

function checkPort(port: number | undefined, what: string): void {
  if (port === undefined) return;
  if (typeof port !== 'number') throw new TypeError(`${what} port must be a number`);
}

function prepare(b: NativeBinding, q: SocketQuery): Prepared | Failed {
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
function bothRefused<T>(diag: Failed, proc: Result<T>): Result<T> {
  if (proc.ok) return proc;
  const message = `sock_diag refused (${diag.error.code}) and /proc/net unreadable (${proc.error.message})`;
  return { ok: false, error: { ...proc.error, message } };
}

/**
 * Counts the matching sockets by state name (ESTABLISHED, TIME_WAIT, …; UNCONN and ESTAB for UDP),
 * in one kernel dump per family with no object per socket. Falls back to /proc/net only when
 * sock_diag is refused; `via` and `note` say which was read.
 */
export function countSockets(q: SocketQuery = {}): Result<SocketCounts> {
  const load = hostBinding();
  if (!load.ok) return load;
  const p = prepare(load.binding, q);
  if ('ok' in p) return p;
  const counts = load.binding.socketCounts(p.native);
  if (typeof counts === 'number') {
    const failed = errnoFailure('sock_diag', counts);
    if (!REFUSED.has(failed.error.code)) return failed;
    return bothRefused(
      failed,
      countFromProc(load.binding, p, `sock_diag refused (${failed.error.code}); read /proc/net instead`),
    );
  }
  const byState: Record<string, number> = {};
  let total = 0;
  counts.forEach((n, state) => {
    if (n === 0) return;
    byState[nameOf(p.names, state)] = n;
    total += n;
  });
  return { ok: true, value: { byState, total, via: 'sock_diag' } };
}

/** The matching sockets, at most `limit` of them (`truncated` says when more matched). */
export function listSockets(q: SocketQuery = {}, limit = 1000): Result<SocketList> {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
    throw new TypeError('limit must be a non-negative integer');
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const p = prepare(b, q);
  if ('ok' in p) return p;
  const raw = b.socketList(p.native, limit + 1);
  if (typeof raw === 'number') {
    const failed = errnoFailure('sock_diag', raw);
    if (!REFUSED.has(failed.error.code)) return failed;
    return bothRefused(
      failed,
      listFromProc(b, p, limit, `sock_diag refused (${failed.error.code}); read /proc/net instead`),
    );
  }
  const sockets: SocketEntry[] = [];
  for (const s of raw.slice(0, limit)) {
    sockets.push({
      protocol: p.protocol,
      family: s.family === b.constants.AF_INET6 ? 6 : 4,
      state: nameOf(p.names, s.state),
      local: s.src,
      localPort: s.sport,
      remote: s.dst,
      remotePort: s.dport,
      uid: s.uid,
      inode: s.inode,
      ...(s.v6only !== undefined ? { v6only: s.v6only } : {}),
    });
  }
  return { ok: true, value: { sockets, truncated: raw.length > limit, via: 'sock_diag' } };
}

// --- /proc/net fallback ----------------------------------------------------------------------------
// /proc/net/tcp prints each 32-bit word of an address in host byte order, as hex. Matching is done on
// that text: the query's address is turned into the same hex once, and no line's address is decoded
// unless the line is listed.

const LITTLE = endianness() === 'LE';

function wordHex(bytes: number[]): string {
  const ordered = LITTLE ? [...bytes].reverse() : bytes;
  return ordered
    .map((x) => x.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function v6Bytes(address: string): number[] {
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail = v4Bytes(text.slice(lastColon + 1));
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes: number[] = [];
  for (const g of groups) {
    const n = Number.parseInt(g, 16);
    bytes.push(n >> 8, n & 255);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** The /proc/net hex forms an address takes: the AF_INET one and/or the AF_INET6 one. */
function procHex(address: string): { v4?: string; v6?: string } {
  const bare = bareAddress(address);
  if (!bare) return {};
  if (bare.family === 4) {
    const b = v4Bytes(bare.address);
    return {
      v4: wordHex(b),
      v6: wordHex([0, 0, 0, 0]) + wordHex([0, 0, 0, 0]) + wordHex([0, 0, 255, 255]) + wordHex(b),
    };
  }
  const b = v6Bytes(bare.address);
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 255 && b[11] === 255;
  const v6 = [0, 4, 8, 12].map((i) => wordHex(b.slice(i, i + 4))).join('');
  return mapped ? { v4: wordHex(b.slice(12)), v6 } : { v6 };
}

function hexToBytes(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const word: number[] = [];
    for (let j = i; j < i + 8; j += 2) word.push(Number.parseInt(hex.slice(j, j + 2), 16));
    out.push(...(LITTLE ? word.reverse() : word));
  }
  return out;
}

type ProcFilter = { family: 4 | 6; path: string; dst?: string; src?: string };

/** The files to read and the hex each must match; follows the native query's family rules. */
function procFilters(b: NativeBinding, p: Prepared): ProcFilter[] {
  const q = p.native;
  // /proc/thread-self: the calling thread's namespace, as sock_diag would answer (see sysctls.ts).
  const base = `/proc/thread-self/net/${p.protocol}`;
  const dst = q.dst?.address ? procHex(q.dst.address) : undefined;
  const src = q.src?.address ? procHex(q.src.address) : undefined;
  const ipv4Address = dst?.v4 !== undefined || src?.v4 !== undefined;
  const out: ProcFilter[] = [];
  const fits = (key: 'v4' | 'v6') => (!dst || dst[key] !== undefined) && (!src || src[key] !== undefined);
  const { AF_INET, AF_INET6 } = b.constants;
  if (fits('v4') && q.family !== AF_INET6) {
    out.push({
      family: 4,
      path: base,
      ...(dst?.v4 ? { dst: dst.v4 } : {}),
      ...(src?.v4 ? { src: src.v4 } : {}),
    });
  }
  // An IPv4 address also lives in tcp6 as v4-mapped; without one, family 4 means tcp only.
  if (fits('v6') && (q.family !== AF_INET || ipv4Address)) {
    out.push({
      family: 6,
      path: base + '6',
      ...(dst?.v6 ? { dst: dst.v6 } : {}),
      ...(src?.v6 ? { src: src.v6 } : {}),
    });
  }
  return out;
}

/** One line of /proc/net/tcp: the fields every caller needs, and the text for the few that need more. */
type ProcLine = { family: 4 | 6; state: number; local: string; remote: string; text: string };

/** uid and inode of a /proc/net line (fields 7 and 9), split out only for lines that are listed. */
function uidAndInode(text: string): { uid: number; inode: number } {
  const fields = text.trim().split(/\s+/);
  return { uid: Number(fields[7] ?? 0), inode: Number(fields[9] ?? 0) };
}

/** The next space-separated token of `text` from `at`: [token, index after it]. */
function token(text: string, at: number): [string, number] {
  while (text.charCodeAt(at) === 32) at++;
  const end = text.indexOf(' ', at);
  return end < 0 ? [text.slice(at), text.length] : [text.slice(at, end), end];
}

/**
 * Calls `line` for each line of a file, read 1 MiB at a time: /proc/net/tcp of a 200,000-socket
 * table is 30 MB, and neither the text nor an array of its lines is ever held whole. False from
 * `line` stops. Throws what openSync/readSync throw.
 */
function forEachLine(path: string, line: (text: string) => boolean): void {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let carry = '';
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      const text = carry + buffer.toString('latin1', 0, n);
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        if (!line(text.slice(start, end))) return;
        start = end + 1;
      }
      carry = text.slice(start);
    }
    if (carry !== '') line(carry);
  } finally {
    closeSync(fd);
  }
}

/** Walks the matching lines of /proc/net; false from `visit` stops. Returns an errno failure or null. */
function walkProc(b: NativeBinding, p: Prepared, visit: (line: ProcLine) => boolean): Failed | null {
  const q = p.native;
  const dport = q.dst?.port ? q.dst.port.toString(16).toUpperCase().padStart(4, '0') : undefined;
  const sport = q.src?.port ? q.src.port.toString(16).toUpperCase().padStart(4, '0') : undefined;
  for (const f of procFilters(b, p)) {
    let header = true;
    let stopped = false;
    try {
      forEachLine(f.path, (text) => {
        if (header) return !(header = false);
        // "  sl: local remote st …": only the first four fields are read for every line.
        const [, a] = token(text, 0);
        const [local, b1] = token(text, a);
        const [remote, c1] = token(text, b1);
        const [st] = token(text, c1);
        if (st === '') return true;
        const state = Number.parseInt(st, 16);
        if (q.states && !(q.states & (1 << state))) return true;
        const lc = local.indexOf(':');
        const rc = remote.indexOf(':');
        if (sport && local.slice(lc + 1) !== sport) return true;
        if (dport && remote.slice(rc + 1) !== dport) return true;
        if (f.src && local.slice(0, lc) !== f.src) return true;
        if (f.dst && remote.slice(0, rc) !== f.dst) return true;
        const keep = visit({
          family: f.family,
          state,
          local,
          remote,
          text,
        });
        stopped = !keep;
        return keep;
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // tcp6 missing beside a readable tcp: no IPv6 in this kernel. Anything else missing means
      // /proc/net is hidden: a failure, never "no sockets".
      if (code === 'ENOENT' && f.family === 6 && existsSync(f.path.slice(0, -1))) continue;
      return errnoFailure('open', -((e as NodeJS.ErrnoException).errno ?? 5), f.path);
    }
    if (stopped) return null;
  }
  return null;
}

function countFromProc(b: NativeBinding, p: Prepared, note: string): Result<SocketCounts> {
  const byNumber: number[] = [];
  const failed = walkProc(b, p, (line) => {
    byNumber[line.state] = (byNumber[line.state] ?? 0) + 1;
    return true;
  });
  if (failed) return failed;
  const byState: Record<string, number> = {};
  let total = 0;
  byNumber.forEach((n, state) => {
    if (!n) return;
    byState[nameOf(p.names, state)] = n;
    total += n;
  });
  return { ok: true, value: { byState, total, via: 'proc' satisfies SocketSource, note } };
}

function listFromProc(b: NativeBinding, p: Prepared, limit: number, note: string): Result<SocketList> {
  const sockets: SocketEntry[] = [];
  let truncated = false;
  const failed = walkProc(b, p, (line) => {
    if (sockets.length >= limit) {
      truncated = true;
      return false;
    }
    const [lh = '', lp = '0'] = line.local.split(':');
    const [rh = '', rp = '0'] = line.remote.split(':');
    sockets.push({
      protocol: p.protocol,
      family: line.family,
      state: nameOf(p.names, line.state),
      local: formatIpBytes(hexToBytes(lh)),
      localPort: Number.parseInt(lp, 16),
      remote: formatIpBytes(hexToBytes(rh)),
      remotePort: Number.parseInt(rp, 16),
      ...uidAndInode(line.text),
    });
    return true;
  });
  if (failed) return failed;
  return { ok: true, value: { sockets, truncated, via: 'proc', note } };
}

/**
 * Counts like countSockets, but always from /proc/net. Exported for tests and the benchmark, which
 * compare the two paths on the same table.
 */
export function countSocketsFromProc(q: SocketQuery = {}): Result<SocketCounts> {
  const load = hostBinding();
  if (!load.ok) return load;
  const p = prepare(load.binding, q);
  if ('ok' in p) return p;
  return countFromProc(load.binding, p, 'read /proc/net on request');
}

/** Lists like listSockets, but always from /proc/net (tests). */
export function listSocketsFromProc(q: SocketQuery = {}, limit = 1000): Result<SocketList> {
  const load = hostBinding();
  if (!load.ok) return load;
  const p = prepare(load.binding, q);
  if ('ok' in p) return p;
  return listFromProc(load.binding, p, limit, 'read /proc/net on request');
}

// --- sockets grouped by remote end ---------------------------------------------------------------

/** Up to this many sockets, a sock_diag listing is grouped; above it, /proc/net is walked line by line. */
const TALLY_LIST_LIMIT = 10_000;

type Group = { family: Family; key: string; remote: string; remotePort: number; byNumber: number[] };

function finishTally(p: Prepared, groups: Map<string, Group>, via: SocketSource, note?: string): RemoteTally {
  const out: RemoteGroup[] = [];
  for (const g of groups.values()) {
    const byState: Record<string, number> = {};
    let total = 0;
    g.byNumber.forEach((n, state) => {
      if (!n) return;
      byState[nameOf(p.names, state)] = n;
      total += n;
    });
    out.push({ family: g.family, remote: g.remote, remotePort: g.remotePort, byState, total });
  }
  return note !== undefined ? { groups: out, via, note } : { groups: out, via };
}

/** A v4-mapped peer is an IPv4 destination: it is grouped with the AF_INET sockets toward it. */
function unmapped(address: string): { address: string; family: Family } {
  const v4 = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return { address: v4, family: v4.includes(':') ? 6 : 4 };
}

function tallyList(entries: NativeSocketEntry[], p: Prepared, skip: (port: number) => boolean) {
  const groups = new Map<string, Group>();
  for (const s of entries) {
    if (skip(s.sport)) continue;
    const { address, family } = unmapped(s.dst);
    const key = `${address} ${s.dport}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { family, key, remote: address, remotePort: s.dport, byNumber: [] }));
    g.byNumber[s.state] = (g.byNumber[s.state] ?? 0) + 1;
  }
  return groups;
}

function tallyProc(
  b: NativeBinding,
  p: Prepared,
  skip: (port: number) => boolean,
): Map<string, Group> | Failed {
  // Grouped on the line's own hex text; only one address per group is ever decoded.
  const byHex = new Map<string, Group>();
  const failed = walkProc(b, p, (line) => {
    if (skip(Number.parseInt(line.local.slice(line.local.indexOf(':') + 1), 16))) return true;
    const hexKey = `${line.family}${line.remote}`;
    let g = byHex.get(hexKey);
    if (!g) {
      const [rh = '', rp = '0'] = line.remote.split(':');
      const { address, family } = unmapped(formatIpBytes(hexToBytes(rh)));
      g = {
        family,
        key: `${address} ${Number.parseInt(rp, 16)}`,
        remote: address,
        remotePort: Number.parseInt(rp, 16),
        byNumber: [],
      };
      byHex.set(hexKey, g);
    }
    g.byNumber[line.state] = (g.byNumber[line.state] ?? 0) + 1;
    return true;
  });
  if (failed) return failed;
  // A v4-mapped peer (tcp6) and the same IPv4 peer (tcp) are two hex keys but one destination.
  const groups = new Map<string, Group>();
  for (const g of byHex.values()) {
    const same = groups.get(g.key);
    if (!same) groups.set(g.key, g);
    else g.byNumber.forEach((n, state) => (same.byNumber[state] = (same.byNumber[state] ?? 0) + n));
  }
  return groups;
}

/**
 * The matching sockets grouped by remote address and port, with their count by state, exact at any
 * table size and with no object kept per socket: a small table is listed by sock_diag and grouped;
 * a table of more than TALLY_LIST_LIMIT sockets is walked in /proc/net one line at a time (and
 * listed whole by sock_diag only when /proc/net cannot be read). Sockets whose local port
 * `skipLocalPort` accepts are left out. `via` and `note` say what was read.
 */
export function tallyByRemote(
  q: SocketQuery = {},
  skipLocalPort: (port: number) => boolean = () => false,
): Result<RemoteTally> {
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const p = prepare(b, q);
  if ('ok' in p) return p;
  const raw = b.socketList(p.native, TALLY_LIST_LIMIT + 1);
  let note: string;
  if (typeof raw === 'number') {
    const failed = errnoFailure('sock_diag', raw);
    if (!REFUSED.has(failed.error.code)) return failed;
    note = `sock_diag refused (${failed.error.code}); read /proc/net instead`;
  } else if (raw.length <= TALLY_LIST_LIMIT) {
    return { ok: true, value: finishTally(p, tallyList(raw, p, skipLocalPort), 'sock_diag') };
  } else {
    note = `more than ${TALLY_LIST_LIMIT.toLocaleString('en-US')} sockets: counted in /proc/net, line by line`;
  }
  const walked = tallyProc(b, p, skipLocalPort);
  if (!(walked instanceof Map)) {
    if (typeof raw === 'number') return bothRefused(errnoFailure('sock_diag', raw), walked);
    // /proc/net is closed to us but sock_diag is not: list the whole table, exact if costly.
    const all = b.socketList(p.native, 0x7fffffff);
    if (typeof all === 'number') return errnoFailure('sock_diag', all);
    const why = `/proc/net unreadable (${walked.error.code}); listed every socket by sock_diag`;
    return { ok: true, value: finishTally(p, tallyList(all, p, skipLocalPort), 'sock_diag', why) };
  }
  return { ok: true, value: finishTally(p, walked, 'proc', note) };
}
