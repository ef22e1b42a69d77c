// Who holds a local port: the evidence behind `port-in-use`. The socket table gives the sockets and
// their inodes; /proc/[pid]/fd links (`socket:[inode]`) give the process, where /proc lets us look.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { invalidInput } from './failure.js';
import { listSockets } from './reader.js';
import type { PortHolder } from './types.js';
import type { Result } from '../types.js';

/** Sockets read at most for one port; a port with more holders than this is explained by the first ones. */
const HOLDER_LIMIT = 4096;

/**
 * Names Node gives its main thread, which is what /proc/[pid]/comm then shows for the whole process:
 * `MainThread` on Node 24, `node-MainThread` on Node 26 (Node 20 and 22 leave the program's name).
 */
const RUNTIME_THREAD_NAMES = new Set(['MainThread', 'node-MainThread']);

/**
 * The program's name as `ps -o comm` and `ss -p` show it (/proc/[pid]/comm); where a runtime renamed
 * its main thread, the name it was started as (argv[0] of /proc/[pid]/cmdline). '' when unreadable.
 */
function processName(pid: string): string {
  let comm: string;
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
  if (!RUNTIME_THREAD_NAMES.has(comm)) return comm;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0.split('/').pop() || comm;
  } catch {
    return comm;
  }
}

/** The parent pid of `pid` (/proc/PID/stat, readable by every user), or undefined. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The parent of a holder when its descriptors could not be read: it may hold the socket too. */
function hiddenParentOf(pid: number): { pid: number; command?: string } | undefined {
  const ppid = parentOf(pid);
  if (ppid === undefined) return undefined;
  try {
    readdirSync(`/proc/${ppid}/fd`);
    return undefined; // readable: had it held the socket, the scan would have found it first
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') return undefined;
  }
  const command = processName(String(ppid));
  return command ? { pid: ppid, command } : { pid: ppid };
}

/** inode → owner, for the inodes asked; stops scanning as soon as all are found. */
function owners(inodes: Set<number>): Map<number, { pid: number; command?: string }> {
  const found = new Map<number, { pid: number; command?: string }>();
  if (inodes.size === 0) return found;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    let command: string | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (!inodes.has(inode) || found.has(inode)) continue;
      command ??= processName(pid);
      found.set(inode, command ? { pid: Number(pid), command } : { pid: Number(pid) });
      if (found.size === inodes.size) return found;
    }
  }
  return found;
}

/**
 * Every socket bound to `port`, whatever its address (`address` is accepted for compatibility and
 * no longer narrows the list: conflicts() in lib/model decides which holders block a bind), each with
 * its state, owner uid, and the pid and command of a process holding it where visible. Sockets no
 * descriptor holds (TIME_WAIT) and processes /proc hides keep pid undefined.
 */
export function findPortHolders(q: {
  protocol: 'tcp' | 'udp';
  port: number;
  address?: string;
}): Result<PortHolder[]> {
  if (typeof q !== 'object' || q === null)
    throw new TypeError('findPortHolders({ protocol, port, address? })');
  if (typeof q.port !== 'number') throw new TypeError('port must be a number');
  if (!Number.isInteger(q.port) || q.port < 1 || q.port > 65535) return invalidInput(`port ${q.port}`);
  const listed = listSockets({ protocol: q.protocol, local: { port: q.port } }, HOLDER_LIMIT);
  if (!listed.ok) return listed;
  // Every socket on the port: which of them stand in the way of a given bind is the pure rule's
  // business (conflicts() in lib/model), decided by the diagnosis.
  const sockets = listed.value.sockets;
  const inodes = new Set(sockets.map((s) => s.inode).filter((inode) => inode !== 0));
  const byInode = owners(inodes);
  return {
    ok: true,
    value: sockets.map((s) => {
      const holder: PortHolder = {
        protocol: q.protocol,
        state: s.state,
        local: s.local,
        localPort: s.localPort,
        uid: s.uid,
        inode: s.inode,
      };
      if (s.v6only !== undefined) holder.v6only = s.v6only;
      if (s.device !== undefined) holder.device = s.device;
      if (s.remotePort !== 0) {
        holder.remote = s.remote;
        holder.remotePort = s.remotePort;
      }
      const owner = s.inode !== 0 ? byInode.get(s.inode) : undefined;
      if (owner) {
        holder.pid = owner.pid;
        if (owner.command !== undefined) holder.command = owner.command;
        const parent = hiddenParentOf(owner.pid);
        if (parent !== undefined) holder.hiddenParent = parent;
      }
      return holder;
    }),
  };
}
