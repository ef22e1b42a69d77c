// Network namespaces of the host and what each holds, for `safebind exporter`. The list: the named
// namespaces under /run/netns and each distinct /proc/PID/ns/net, told apart by inode. Each is read
// by a native thread that enters it (netnsRead in the addon), never by moving this process: its
// TCP table grouped by destination in one walk, and its sysctls opened from inside it (/proc/sys/net
// answers for the namespace of the thread that opens the file). Owners' cgroups name the container
// or pod, where they can be read.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { parsePortRange, parsePortRanges, poolOf } from '../model/pool.js';
import type { TimeWaitSettings } from '../model/time-wait.js';
import { errnoResult } from '../sys/errors.js';
import type { Result } from '../types.js';
import { cgroupIds, commonIds, type CgroupIds } from './cgroup-ids.js';
import { hostBinding } from './failure.js';
import { isLoopbackHost, type PreparedDests } from './netns-dests.js';
import { destination, usageOf, type Pool } from './port-usage.js';
import { stateNames, nameOf } from './socket-query.js';
import { timeWaitFromFiles } from './time-wait-settings.js';

export { destinationLabel, prepareDests, type NetnsDest, type PreparedDests } from './netns-dests.js';

/** A network namespace found on the host. */
export interface NetnsRef {
  /** A file that names it: /run/netns/NAME, /proc/PID/ns/net. Tried in order. */
  paths: string[];
  /** Its inode: the same number `ls -iL /proc/PID/ns/net` and `lsns -t net` print. */
  inode: number;
  /** The processes seen in it (none for a named namespace no process uses). */
  pids: number[];
  /** From the processes' cgroups: set only when every process names the same one. */
  ids: CgroupIds;
}

const SELF = '/proc/self/ns/net';

/** The inode of `path`, or undefined when it cannot be stat'ed. */
export function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * The inode of a namespace file given by path; 'missing' when it cannot be stat'ed, 'not a
 * namespace' when it is another kind of file (/etc/passwd, a directory, an unmounted /run/netns
 * entry): every namespace file lives on the one nsfs filesystem, the device of /proc/self/ns/net.
 */
function namespaceInode(path: string): number | 'missing' | 'not a namespace' {
  try {
    const st = statSync(path);
    return st.dev === statSync(SELF).dev ? st.ino : 'not a namespace';
  } catch {
    return 'missing';
  }
}

/** The inode a /proc/PID/ns/net link names (`net:[4026531833]`): no stat structure built per process. */
function linkedInode(path: string): number | undefined {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(path));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Which namespace each readable process is in: inode → pids. Unreadable ones are counted. */
function processesByNetns(): { byInode: Map<number, number[]>; unreadable: number } {
  const byInode = new Map<number, number[]>();
  let unreadable = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { byInode, unreadable };
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const inode = linkedInode(`/proc/${name}/ns/net`);
    if (inode === undefined) {
      unreadable++;
      continue;
    }
    const pids = byInode.get(inode);
    if (pids) pids.push(Number(name));
    else byInode.set(inode, [Number(name)]);
  }
  return { byInode, unreadable };
}

function idsOf(pids: number[]): CgroupIds {
  const members: CgroupIds[] = [];
  for (const pid of pids) {
    let ids: CgroupIds;
    try {
      ids = cgroupIds(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    } catch {
      // The process is gone, or its cgroup hidden: it says nothing either way.
      continue;
    }
    // One process in no container and no pod (the host's namespace: most processes) settles it:
    // the namespace is nobody's alone, and the rest need not be read.
    if (ids.container === undefined && ids.pod === undefined) return {};
    members.push(ids);
  }
  return commonIds(members);
}

function ref(inode: number, paths: string[], pids: number[]): NetnsRef {
  return { inode, paths, pids, ids: idsOf(pids) };
}

/**
 * The namespaces to read. `specs` holds `all` (every namespace of the host) and paths of namespace
 * files; empty means this process's own namespace. Namespaces are deduplicated by inode. A path that
 * does not exist is listed in `missing`, one that is no namespace file in `notNamespace`: the
 * exporter refuses either at start, and skips a namespace deleted later.
 */
export function listNetns(specs: string[]): Result<NetnsList> {
  if (specs.length === 0) {
    // The exporter's own namespace: when this process is in no container and no pod, the namespace
    // is nobody's alone (idsOf's rule), and no other process need be looked at.
    const self = inodeOf(SELF);
    if (self === undefined) return errnoResult('stat', -2, { address: SELF });
    let own: CgroupIds | undefined;
    try {
      own = cgroupIds(readFileSync('/proc/self/cgroup', 'utf8'));
    } catch {
      own = undefined;
    }
    if (own && own.container === undefined && own.pod === undefined)
      return {
        ok: true,
        value: {
          namespaces: [{ inode: self, paths: [SELF], pids: [process.pid], ids: {} }],
          hiddenProcesses: 0,
          missing: [],
          notNamespace: [],
        },
      };
  }
  const { byInode, unreadable } = processesByNetns();
  const missing: string[] = [];
  const notNamespace: string[] = [];
  const found = new Map<number, NetnsRef>();
  const add = (inode: number, path: string) => {
    const known = found.get(inode);
    if (known) {
      if (!known.paths.includes(path)) known.paths.push(path);
      return;
    }
    const pids = byInode.get(inode) ?? [];
    found.set(inode, ref(inode, [path], pids));
  };
  const wanted = specs.length === 0 ? [SELF] : specs;
  for (const spec of wanted) {
    if (spec !== 'all') {
      const inode = namespaceInode(spec);
      if (inode === 'missing') missing.push(spec);
      else if (inode === 'not a namespace') notNamespace.push(spec);
      else add(inode, spec);
      continue;
    }
    const self = inodeOf(SELF);
    if (self !== undefined) add(self, SELF);
    let named: string[] = [];
    try {
      named = readdirSync('/run/netns');
    } catch {
      // No /run/netns: no named namespace.
    }
    for (const name of named) {
      const path = `/run/netns/${name}`;
      const inode = inodeOf(path);
      if (inode !== undefined) add(inode, path);
    }
    for (const [inode, pids] of byInode) add(inode, `/proc/${pids[0]}/ns/net`);
  }
  // Each namespace found through a process can be entered through its other processes too.
  for (const ns of found.values()) {
    for (const pid of ns.pids.slice(0, 3)) {
      const path = `/proc/${pid}/ns/net`;
      if (!ns.paths.includes(path)) ns.paths.push(path);
    }
  }
  return {
    ok: true,
    value: { namespaces: [...found.values()], hiddenProcesses: unreadable, missing, notNamespace },
  };
}

/**
 * Source-port pools of one namespace, column by column (index i is one destination). A destination
 * reached from several source addresses has a pool per source; its figures are the fullest one's.
 */
export interface NetnsPools {
  /** `IP:PORT` or `[IPV6]:PORT`, as PortUsage.destination. */
  destinations: string[];
  /** Sockets in any state but LISTEN toward each. */
  inUse: number[];
  /** In use over the pool; NaN for every destination when the pool could not be read. */
  usage: number[];
  /** Why the pool (range less reserved ports) could not be read. */
  notRead?: string;
  /** Ports in the pool (range less reserved); NaN when it could not be read. */
  poolSize: number;
  /** Whether each destination is loopback (where tcp_tw_reuse=2 applies). */
  loopback: boolean[];
  /** Sockets toward each that are not in TIME_WAIT. */
  notTimeWait: number[];
  /** TIME_WAIT sockets toward each whose timer started after the previous read (`sinceMs`). */
  freshTimeWait: number[];
  /**
   * TIME_WAIT timers toward each in 1-s buckets (bucket k: k000–k999 ms left): the 60 numbers of
   * destination i start at `timersAt[i]` of `timers[i]` (views of the native answer, not copies).
   */
  timers: Uint32Array[];
  timersAt: number[];
}

/** The namespaces found, and what could not be looked at. */
export interface NetnsList {
  namespaces: NetnsRef[];
  /** Processes whose /proc/PID/ns/net could not be read (another user's, without the privilege). */
  hiddenProcesses: number;
  /** Namespace files asked for by path that do not exist (or cannot be stat'ed). */
  missing: string[];
  /** Paths asked for that exist but are no namespace file (not on nsfs): left out, like `missing`. */
  notNamespace: string[];
}

/** What one namespace holds, as the exporter's gauges need it. */
export interface NetnsReading {
  inode: number;
  /** TCP sockets by state name; undefined when sock_diag failed (`unreadable.sockets` says why). */
  sockets?: Record<string, number>;
  /** The ports of ip_local_port_range, or undefined when it could not be read. */
  rangeSize?: number;
  /** ip_local_port_range itself, when it could be read. */
  range?: [number, number];
  nonlocalBind: { v4?: boolean; v6?: boolean };
  /**
   * The requested destinations, then the busiest ones not among them: columns rather than one
   * PortUsage each, since an exporter may ask for thousands at every scrape.
   */
  pools: NetnsPools;
  /** What could not be read, and why. */
  unreadable: Record<string, string>;
  /** CLOCK_MONOTONIC (ms) at the start of the socket walk: the next read's `sinceMs`. */
  walkMs: number;
  /** tcp_tw_reuse, tcp_tw_reuse_delay and tcp_timestamps of the namespace, those that were read. */
  timeWait: TimeWaitSettings;
}

/** Numbers per requested destination in the native answer: the total, 16 states, fresh, 60 buckets. */
const DEST_STRIDE = 78;
const TW_BUCKETS = 60;

const FILES = [
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_nonlocal_bind',
  'net.ipv6.ip_nonlocal_bind',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_tw_reuse_delay',
  'net.ipv4.tcp_timestamps',
] as const;

function poolFrom(range: string | undefined, reserved: string | undefined, why: string): Pool {
  const r = range === undefined ? undefined : parsePortRange(range);
  if (!r || reserved === undefined) return { range: [NaN, NaN], reserved: NaN, poolSize: NaN, notRead: why };
  const p = poolOf(r, parsePortRanges(reserved));
  return { range: r, reserved: p.reserved, poolSize: p.poolSize };
}

/**
 * Reads one namespace through the first of `paths` that opens. `dests` are IP literals with ports,
 * counted whatever their sockets' local port; `top` more are the busiest outbound destinations.
 */
export async function readNetns(
  paths: string[],
  prepared: PreparedDests,
  top: number,
  sinceMs?: number,
): Promise<Result<NetnsReading>> {
  const dests = prepared.list;
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const names = stateNames(b, false);
  let last: Result<NetnsReading> = errnoResult('open', -2);
  for (const path of paths) {
    const raw = await b.netnsRead({
      path,
      dests: prepared.packed,
      top,
      files: FILES.map((f) => `/proc/sys/${f.replaceAll('.', '/')}`),
      ...(sinceMs !== undefined ? { sinceMs } : {}),
    });
    if (typeof raw === 'number') return errnoResult('pthread_create', raw);
    if (raw.openRc < 0) {
      // The process that named it is gone: another path may still name it.
      last = errnoResult('open', raw.openRc, { address: path });
      continue;
    }
    if (raw.setnsRc < 0) return errnoResult('setns', raw.setnsRc, { address: path });
    const unreadable: Record<string, string> = {};
    const text: Record<string, string | undefined> = {};
    const rcs: Record<string, number> = {};
    FILES.forEach((name, i) => {
      const f = raw.files[i];
      rcs[name] = f?.rc ?? -5;
      if (f && f.rc === 0) text[name] = f.text.trim().replace(/\s+/g, ' ');
      else unreadable[name] = errnoResult('open', f?.rc ?? -5).error.code;
    });
    const timeWait = timeWaitFromFiles(text, rcs);
    if (timeWait.reuseDelayMs === 'absent') delete unreadable['net.ipv4.tcp_tw_reuse_delay'];
    const pools: NetnsPools = {
      destinations: [],
      inUse: [],
      usage: [],
      poolSize: NaN,
      loopback: [],
      notTimeWait: [],
      freshTimeWait: [],
      timers: [],
      timersAt: [],
    };
    const reading: NetnsReading = {
      inode: raw.inode,
      nonlocalBind: {},
      pools,
      unreadable,
      walkMs: raw.walkMs,
      timeWait,
    };
    const range = text['net.ipv4.ip_local_port_range'];
    const parsedRange = range === undefined ? undefined : parsePortRange(range);
    if (parsedRange) {
      reading.range = parsedRange;
      reading.rangeSize = Math.max(0, parsedRange[1] - parsedRange[0] + 1);
    }
    for (const [key, name] of [
      ['v4', 'net.ipv4.ip_nonlocal_bind'],
      ['v6', 'net.ipv6.ip_nonlocal_bind'],
    ] as const) {
      if (text[name] !== undefined) reading.nonlocalBind[key] = text[name] === '1';
    }
    if (raw.diagRc < 0) {
      unreadable.sockets = `sock_diag: ${errnoResult('sock_diag', raw.diagRc).error.code}`;
      return { ok: true, value: reading };
    }
    const byState: Record<string, number> = {};
    raw.states.forEach((n, s) => {
      if (n) byState[nameOf(names, s)] = n;
    });
    reading.sockets = byState;
    const why = Object.entries(unreadable)
      .filter(([k]) => k.includes('port'))
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    const pool = poolFrom(range, text['net.ipv4.ip_local_reserved_ports'], why);
    if (pool.notRead !== undefined) pools.notRead = pool.notRead;
    pools.poolSize = pool.poolSize;
    const add = (
      label: string,
      inUse: number,
      loopback: boolean,
      fresh: number,
      timers: Uint32Array,
      at: number,
    ) => {
      pools.destinations.push(label);
      pools.inUse.push(inUse);
      pools.usage.push(usageOf(inUse, pool));
      pools.loopback.push(loopback);
      let timeWaits = 0;
      for (let k = at; k < at + TW_BUCKETS; k++) timeWaits += timers[k]!;
      pools.notTimeWait.push(inUse - timeWaits);
      pools.freshTimeWait.push(fresh);
      pools.timers.push(timers);
      pools.timersAt.push(at);
    };
    for (let i = 0; i < dests.length; i++) {
      const at = i * DEST_STRIDE;
      add(dests[i]!.label, raw.dests[at]!, prepared.loopback[i]!, raw.dests[at + 17]!, raw.dests, at + 18);
    }
    for (const g of raw.top) {
      const label = destination(g.address, g.family, g.port);
      add(label, g.total, isLoopbackHost(g.address), g.freshTimeWait, g.timeWaitTimers, 0);
    }
    return { ok: true, value: reading };
  }
  return last;
}
