// Shapes of what the host readers gather. Filled by lib/host, consumed by lib/diagnose and lib/api.
import type { Address, Family, PortUsage } from '../types.js';

/** The sysctls that decide bind and connect outcomes, for the caller's network namespace. */
export interface NetSysctls {
  /** net.ipv4.ip_local_port_range (also governs IPv6); absent when it could not be read (see `unreadable`). */
  ipLocalPortRange?: [number, number];
  /** net.ipv4.ip_local_reserved_ports, as inclusive ranges ([] when unreadable: see `unreadable`). */
  ipLocalReservedPorts: Array<[number, number]>;
  /** net.ipv4.ip_nonlocal_bind and net.ipv6.ip_nonlocal_bind. */
  ipNonlocalBind: { v4: boolean; v6: boolean };
  /** net.ipv4.tcp_tw_reuse: 0 never, 1 all outbound, 2 loopback only (default); absent when unreadable. */
  tcpTwReuse?: number;
  /** net.ipv4.ip_unprivileged_port_start; absent when unreadable. */
  ipUnprivilegedPortStart?: number;
  /**
   * net.ipv6.bindv6only (per network namespace): the IPV6_V6ONLY an IPv6 socket starts with when
   * its program never sets the option (Node's dgram; not Node's TCP, which always sets it). Absent
   * when unreadable.
   */
  bindv6only?: boolean;
  /**
   * net.ipv6.conf.{all,default,IF}.disable_ipv6; `absent` when the kernel has no IPv6 at all (net/ipv6
   * missing where net/ipv4 is readable). When /proc/sys/net cannot be read, `absent` is false and
   * `unreadable` names net.ipv6.conf.all.disable_ipv6: unknown, not "no IPv6".
   */
  disableIpv6: { absent: boolean; all: boolean; default: boolean; interfaces: Record<string, boolean> };
  /** net.ipv6.conf.{all,default,IF}.dad_transmits. */
  dadTransmits: Record<string, number>;
  /** net.ipv6.conf.{all,default,IF}.accept_dad. */
  acceptDad: Record<string, number>;
  /** Every value read, by dotted name, as the kernel printed it (tabs folded to spaces). */
  raw: Record<string, string>;
  /** Dotted names that could not be read, with the reason. */
  unreadable: Record<string, string>;
}

/** A socket that holds a local port, with its owner where /proc lets us see it. */
export interface PortHolder {
  protocol: 'tcp' | 'udp';
  state: string;
  local: string;
  localPort: number;
  remote?: string;
  remotePort?: number;
  uid: number;
  inode: number;
  /** IPV6_V6ONLY as sock_diag reported it (IPv6 sockets in LISTEN or CLOSE); absent when unknown. */
  v6only?: boolean;
  /** SO_BINDTODEVICE: the interface it is bound to, '' for none; absent when unknown (/proc/net). */
  device?: string;
  pid?: number;
  command?: string;
  /**
   * The holder's parent, when this process could not read the parent's descriptors (another user's,
   * without privilege): a server's master that started the holder usually holds the same socket,
   * and stopping the holder alone leaves it to start another.
   */
  hiddenParent?: { pid: number; command?: string };
}

/** A neighbour entry's state, as `ip neigh` names the kernel's NUD_* states. */
export type NeighbourState =
  | 'incomplete'
  | 'reachable'
  | 'stale'
  | 'delay'
  | 'probe'
  | 'failed'
  | 'noarp'
  | 'permanent';

/** One entry of the neighbour table: a host on a link that answered (or not) for an address. */
export interface Neighbour {
  address: string;
  family: 4 | 6;
  interface: string;
  /** The link-layer address that answered; absent while unanswered. */
  lladdr?: string;
  /**
   * reachable, stale, delay, probe: answered (recently, or longer ago and not re-checked yet);
   * incomplete: asked, no answer yet; failed: asked, nobody answered; noarp: multicast and the
   * like, never asked; permanent: set by hand.
   */
  state: NeighbourState;
  /** How it was learnt: the kernel's table (absent), or an answer to safebind's own RFC 5227 ARP probe. */
  via?: 'arp-probe';
}

/** The kernel's route lookup toward a destination (ip route get). */
export type RouteLookup =
  | {
      ok: true;
      destination: string;
      /** unicast, local, blackhole, unreachable, prohibit, … */
      type: string;
      interface?: string;
      ifindex?: number;
      source?: string;
      gateway?: string;
    }
  | { ok: false; destination: string; errno: number; code: string };

export type { Address, Family, PortUsage };

/** Which sockets to count or list. Addresses are IP literals; an IPv4 one also matches v4-mapped IPv6 sockets. */
export interface SocketQuery {
  /** Default 'tcp'. */
  protocol?: 'tcp' | 'udp';
  /** 4 or 6; both when absent. */
  family?: Family;
  /** State names to keep (ESTABLISHED, TIME_WAIT, …; UNCONN/ESTAB for UDP); all when absent. */
  states?: readonly string[];
  /** State names to leave out (e.g. ['LISTEN'] for the sockets that hold a 4-tuple). */
  excludeStates?: readonly string[];
  remote?: { address?: string; port?: number };
  local?: { address?: string; port?: number };
}

/** Where a socket-table answer came from: the kernel's sock_diag, or /proc/net when netlink was refused. */
export type SocketSource = 'sock_diag' | 'proc';

export interface SocketCounts {
  /** Count by state name; states with no socket are left out. */
  byState: Record<string, number>;
  total: number;
  via: SocketSource;
  /** Why /proc was read instead, when it was. */
  note?: string;
}

export interface SocketEntry {
  protocol: 'tcp' | 'udp';
  family: Family;
  state: string;
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  uid: number;
  /** 0 for sockets no descriptor holds (TIME_WAIT, request sockets). */
  inode: number;
  /**
   * IPV6_V6ONLY of an IPv6 socket, as sock_diag reports it (INET_DIAG_SKV6ONLY: LISTEN and CLOSE
   * sockets only); absent when not reported, and always from /proc/net, which does not show it.
   */
  v6only?: boolean;
  /**
   * SO_BINDTODEVICE: the interface the socket is bound to, '' for none (sock_diag's idiag_if);
   * absent when unknown (read from /proc/net, which does not show it). An ifindex whose interface
   * is gone reads 'if<N>'.
   */
  device?: string;
}

export interface SocketList {
  sockets: SocketEntry[];
  /** More sockets matched than the limit let through. */
  truncated: boolean;
  via: SocketSource;
  note?: string;
}

/** Sockets toward one remote address and port, counted by state. */
export interface RemoteGroup {
  family: Family;
  /** The local (source) address; a v4-mapped one as its IPv4 address. */
  local: string;
  /** The remote address; a v4-mapped IPv6 peer is given as its IPv4 address. */
  remote: string;
  remotePort: number;
  /** Count by state name; states with no socket are left out. */
  byState: Record<string, number>;
  total: number;
}

/** Every matching socket, grouped by local address and remote end: exact, whatever the table's size. */
export interface RemoteTally {
  groups: RemoteGroup[];
  via: SocketSource;
  /** What was read instead of a sock_diag listing, and why, when it was. */
  note?: string;
}

/** The resolver configuration read for a failed name lookup (see `readResolverConfig`). */
export interface ResolverConfig {
  /** The name that did not resolve. */
  name: string;
  /** /etc/resolv.conf: nameservers in order, search domains, options (`ndots:5`, `timeout:2`…). */
  resolvConf?: { path: string; nameservers: string[]; search: string[]; options: string[] };
  /** The /etc/hosts lines that name `name` (none: the file does not know it). */
  hosts?: { path: string; matches: Array<{ address: string; names: string[] }> };
  /** /etc/nsswitch.conf's `hosts:` sources in order (`files`, `dns`, `resolve [!UNAVAIL=return]`…). */
  nsswitchHosts?: { path: string; sources: string[]; present: boolean };
  /** The files that could not be read, by key above, with the reason. */
  unreadable: Record<string, string>;
}

// --- issue 16 audits ---
/** Connection tracking as read from /proc: not loaded, or the table's fill and its loss counters. */
export type ConntrackReading =
  | { loaded: false; why: string }
  /** /proc/sys/net itself could not be read: whether conntrack is loaded is unknown. */
  | { loaded: 'unknown'; why: string }
  | {
      loaded: true;
      /** net.netfilter.nf_conntrack_count: entries in this namespace's table. */
      count?: number;
      /** net.netfilter.nf_conntrack_max: one limit for the host, set in the initial namespace only. */
      max?: number;
      /** /proc/net/stat/nf_conntrack summed over CPUs, since boot (or since this namespace was made). */
      insertFailed?: number;
      drop?: number;
      earlyDrop?: number;
      /** What could not be read, with the reason. */
      unreadable: Record<string, string>;
    };

/** The per-namespace sysctls compared across the namespaces of one host. */
export interface NamespaceSysctls {
  /** How the namespace is named in output: 'host', a /run/netns name, 'inode 4026532xxx', a pod. */
  netns: string;
  /** net.ipv4.ip_local_port_range; absent when not read. */
  ipLocalPortRange?: [number, number];
  /** net.ipv4.tcp_tw_reuse; absent when not read. */
  tcpTwReuse?: number;
}
