// The per-namespace sysctls of the named network namespaces (/run/netns, as `ip netns add` makes
// them), each read by a child process that entered the namespace (`ip netns exec NAME cat …`): this
// process never moves. Needs the right to enter them (root); a namespace that cannot be entered is
// named with the reason.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { parsePortRange } from '../model/pool.js';
import { inodeOf } from './netns.js';
import type { NamespaceSysctls } from './types.js';

const RUN_NETNS = '/run/netns';
/** More named namespaces than this are not read (each costs a fork of `ip`). */
export const NAMED_NETNS_LIMIT = 64;

export interface NamedNamespaces {
  readings: NamespaceSysctls[];
  /** Namespaces that could not be read, with the reason. */
  unreadable: Record<string, string>;
  /** Set when there were more than NAMED_NETNS_LIMIT. */
  truncated?: number;
}

/**
 * One reading per namespace: two names of one namespace (two mounts of it) are read once, under the
 * first name; with `exceptOwn`, the namespace this process runs in is left out (a caller that reads
 * it itself, as doctor does, would count it twice).
 */
export function readNamedNamespaceSysctls(
  dir = RUN_NETNS,
  opts: { exceptOwn?: boolean } = {},
): NamedNamespaces {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return { readings: [], unreadable: {} };
  }
  const out: NamedNamespaces = { readings: [], unreadable: {} };
  if (names.length > NAMED_NETNS_LIMIT) out.truncated = names.length;
  const seen = new Set<number>();
  const own = opts.exceptOwn === true ? inodeOf('/proc/self/ns/net') : undefined;
  if (own !== undefined) seen.add(own);
  for (const name of names.slice(0, NAMED_NETNS_LIMIT)) {
    const inode = inodeOf(`${dir}/${name}`);
    if (inode !== undefined && seen.has(inode)) continue;
    if (inode !== undefined) seen.add(inode);
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        name,
        'cat',
        '/proc/sys/net/ipv4/ip_local_port_range',
        '/proc/sys/net/ipv4/tcp_tw_reuse',
      ],
      { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const [rangeLine = '', reuseLine = ''] = (r.stdout ?? '').split('\n');
    const range = parsePortRange(rangeLine);
    const reuse = Number.parseInt(reuseLine, 10);
    if (r.status !== 0 || !range || !Number.isInteger(reuse)) {
      out.unreadable[name] = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0] ?? '';
      continue;
    }
    out.readings.push({ netns: name, ipLocalPortRange: range, tcpTwReuse: reuse });
  }
  return out;
}
