// The /proc/net/{tcp,udp}{,6} reader, used only when netlink sock_diag is refused to this process.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import type { Result } from '../types.js';
import { formatIpBytes } from '../sys/ip-text.js';
import { errnoResult, type ErrorResult } from '../sys/errors.js';
import { hostBinding } from './failure.js';
import { bareAddress, nameOf, prepare, type Prepared, type TableBinding } from './socket-query.js';
import type { SocketCounts, SocketEntry, SocketList, SocketQuery, SocketSource } from './types.js';

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

export function hexToBytes(hex: string): number[] {
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
function procFilters(b: TableBinding, p: Prepared): ProcFilter[] {
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
export type ProcLine = { family: 4 | 6; state: number; local: string; remote: string; text: string };

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
export function walkProc(
  b: TableBinding,
  p: Prepared,
  visit: (line: ProcLine) => boolean,
): ErrorResult | null {
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
      return errnoResult('open', -((e as NodeJS.ErrnoException).errno ?? 5), { detail: f.path });
    }
    if (stopped) return null;
  }
  return null;
}

export function countFromProc(b: TableBinding, p: Prepared, note: string): Result<SocketCounts> {
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

export function listFromProc(b: TableBinding, p: Prepared, limit: number, note: string): Result<SocketList> {
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
