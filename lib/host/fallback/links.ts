// What the no-addon readers know of each link without rtnetlink: its index, and whether it is up and
// running. Each fact comes from a table of the caller's network namespace:
// - running (IFF_UP and IFF_RUNNING): os.networkInterfaces() lists exactly the addresses of links
//   that are both (libuv's getifaddrs filter), so a link it names is running, and one it does not is not;
// - up: /proc/net/igmp lists every IPv4-enabled link that is up (the kernel joins 224.0.0.1 on
//   NETDEV_UP and leaves it on NETDEV_DOWN);
// - index: /proc/net/igmp, /proc/net/igmp6 and /proc/net/if_inet6 print it beside the name.
// `lower-up` and the other IFF_* flags are not visible there: they are reported as not read.
import { readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { readProcNet, rows } from './proc-text.js';

export interface Links {
  /** Names of the links that are up and running, and of those that are loopback. */
  running: Set<string>;
  loopback: Set<string>;
  /** Links known to be up; a link absent from it is down only when `upKnown` has it. */
  up: Set<string>;
  /** Links whose up/down state was read (IPv4-enabled links, via /proc/net/igmp). */
  upKnown: Set<string>;
  /** Index by name, where a table printed one. */
  index: Map<string, number>;
}

export function readLinks(): Links {
  const links: Links = {
    running: new Set(),
    loopback: new Set(),
    up: new Set(),
    upKnown: new Set(),
    index: new Map(),
  };
  for (const [label, entries] of Object.entries(networkInterfaces())) {
    // getifaddrs names an IPv4 address by its label (eth0:vip), which starts with the link's name.
    const name = linkOf(label);
    links.running.add(name);
    links.up.add(name); // IFF_RUNNING is only set on a link that is up
    if (entries?.some((e) => e.internal)) links.loopback.add(name);
  }
  // /proc/net/igmp: "Idx Device : Count Querier", then indented group lines (fewer fields first).
  const igmp = readProcNet('igmp');
  if (igmp.ok) {
    for (const fields of rows(igmp.text)) {
      if (!/^\d+$/.test(fields[0] ?? '') || fields[2] !== ':') continue;
      const name = fields[1] ?? '';
      links.up.add(name);
      links.index.set(name, Number(fields[0]));
    }
    // A link with IPv4 (net.ipv4.conf.NAME exists) that igmp does not list is down; for a link
    // without IPv4 the state stays unknown.
    for (const name of ipv4Links()) links.upKnown.add(name);
  }
  const igmp6 = readProcNet('igmp6');
  if (igmp6.ok) {
    for (const fields of rows(igmp6.text, 0)) {
      const [index, name] = fields;
      if (index !== undefined && name !== undefined && /^\d+$/.test(index) && !links.index.has(name))
        links.index.set(name, Number(index));
    }
  }
  return links;
}

/** Links that have IPv4, from /proc/sys/net/ipv4/conf of the calling thread's namespace. */
function ipv4Links(): string[] {
  try {
    return readdirSync('/proc/sys/net/ipv4/conf').filter((n) => n !== 'all' && n !== 'default');
  } catch {
    return [];
  }
}

/** The link an IPv4 label (`eth0:vip`) belongs to: the label up to its first ':'. */
export function linkOf(label: string): string {
  const colon = label.indexOf(':');
  return colon < 0 ? label : label.slice(0, colon);
}
