// The shapes the native addon (native/binding.cc) takes and returns: what lib/binding.ts loads and
// lib/sys, lib/host and lib/bench call. Declarations only.
/** Numeric constants, always read from the addon (the C headers), never typed in TypeScript. */
export interface NativeConstants {
  AF_UNSPEC: number;
  AF_INET: number;
  AF_INET6: number;
  SOCK_STREAM: number;
  SOCK_DGRAM: number;
  SOL_SOCKET: number;
  IPPROTO_IP: number;
  IPPROTO_IPV6: number;
  IPPROTO_TCP: number;
  IPPROTO_UDP: number;
  SO_REUSEADDR: number;
  SO_REUSEPORT: number;
  SO_BINDTODEVICE: number;
  SO_LINGER: number;
  SO_ERROR: number;
  SO_RCVBUF: number;
  SO_SNDBUF: number;
  IP_FREEBIND: number;
  IP_TRANSPARENT: number;
  IP_BIND_ADDRESS_NO_PORT: number;
  IP_LOCAL_PORT_RANGE: number;
  IPV6_FREEBIND: number;
  IPV6_V6ONLY: number;
  /** IFA_F_* address flags (rtnetlink(7)), by lower-case name without prefix: tentative, dadfailed, … */
  addressFlags: Record<string, number>;
  /** IFF_* interface flags (netdevice(7)), by lower-case name: up, running, loopback, … */
  linkFlags: Record<string, number>;
  /** RT_SCOPE_* by name: universe, site, link, host, nowhere. */
  scopes: Record<string, number>;
  /** TCP states as sock_diag numbers them (1 = ESTABLISHED … 11 = CLOSING, 12 = NEW_SYN_RECV). */
  tcpStates: Record<string, number>;
  /** RTN_* route types by name: unicast, local, blackhole, unreachable, prohibit, … */
  routeTypes: Record<string, number>;
  /** NUD_* neighbour states (rtnetlink(7)) by name: incomplete, reachable, stale, delay, probe, failed, noarp, permanent. */
  neighbourStates: Record<string, number>;
}

/** A socket address crossing the binding. `scopeId` is 0 for IPv4 and for global IPv6. */
export interface NativeSockAddr {
  family: number;
  address: string;
  port: number;
  scopeId: number;
}

/** One neighbour-table entry from rtnetlink RTM_GETNEIGH (ARP or IPv6 neighbour discovery). */
export interface NativeNeighbour {
  family: number;
  ifindex: number;
  /** Absent when the interface went away between the dump and the name lookup. */
  ifname?: string;
  address: string;
  /** "aa:bb:cc:dd:ee:ff"; absent when the entry has none (incomplete, failed). */
  lladdr?: string;
  /** NUD_* bits (constants.neighbourStates). */
  state: number;
  /** NTF_* bits. */
  flags: number;
}

/** One interface address from rtnetlink RTM_GETADDR, joined with its link from RTM_GETLINK. */
export interface NativeAddress {
  ifindex: number;
  ifname: string;
  family: number;
  address: string;
  prefixLength: number;
  /** RT_SCOPE_* of the address. */
  scope: number;
  /** IFA_F_* bits, from IFA_FLAGS when present (32 bits), else ifa_flags. */
  ifaFlags: number;
  /** IFF_* bits of the interface. */
  linkFlags: number;
  /** IFLA_OPERSTATE of the link (RFC 2863 number: 6 = up, 2 = down, 0 = unknown…). */
  operState: number;
  /** IPv4 label (eth0:1) when it differs from the interface name. */
  label?: string;
  /** IFA_CACHEINFO lifetimes in seconds; 0xffffffff is forever. */
  preferredLifetime?: number;
  validLifetime?: number;
}

/** Which sockets a sock_diag query counts: filtered in the kernel, never one JS object per socket. */
export interface NativeSocketQuery {
  /** IPPROTO_TCP or IPPROTO_UDP. */
  protocol: number;
  /** AF_INET, AF_INET6, or AF_UNSPEC for both. */
  family: number;
  /** Bit mask of states (1 << state); 0 means all. */
  states: number;
  /** Remote end to match. An IPv4 address also matches v4-mapped IPv6 sockets (::ffff:a.b.c.d). */
  dst?: { address?: string; port?: number };
  /** Local end to match. */
  src?: { address?: string; port?: number };
}

/** One socket, for the few cases that need them (holders of a local port). */
export interface NativeSocketEntry {
  family: number;
  state: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  inode: number;
  uid: number;
  /** INET_DIAG_SKV6ONLY: sent for IPv6 sockets in LISTEN or CLOSE only. */
  v6only?: boolean;
  /** SO_BINDTODEVICE as sock_diag reports it (idiag_if): the ifindex, 0 for none. */
  boundIf: number;
}

// --- namespace reader types (native/netns_read.h) ---
/** One destination of a namespace's outbound TCP sockets and its sockets by state. */
export interface NativeNetnsGroup {
  family: 4 | 6;
  address: string;
  port: number;
  total: number;
  /** By state number (index = state, length 16). */
  counts: number[];
  /** TIME_WAIT sockets whose timer started after the walk at `sinceMs` (all of them without it). */
  freshTimeWait: number;
  /** TIME_WAIT timers in 1-s buckets: index k counts timers of k000–k999 ms (60 buckets). */
  timeWaitTimers: Uint32Array;
}

/** What a thread that entered one namespace read there; each `*Rc` is 0 or -errno. */
export interface NativeNetnsReading {
  openRc: number;
  setnsRc: number;
  /** The namespace's inode (0 when the file could not be opened). */
  inode: number;
  diagRc: number;
  /** CLOCK_MONOTONIC (ms) at the start of the walk: the next read's `sinceMs`. */
  walkMs: number;
  /** Every TCP socket by state number, LISTEN included. */
  states: number[];
  /** The busiest destinations of outbound sockets (local port not a listening port), not requested ones. */
  top: NativeNetnsGroup[];
  /**
   * Per requested destination, in order, every socket toward it counted: 78 numbers each, the total,
   * the count of each state number 0–15, then `freshTimeWait` and the 60 `timeWaitTimers` buckets
   * as NativeNetnsGroup has them.
   */
  dests: Uint32Array;
  /** One per requested file, opened in the namespace. */
  files: Array<{ rc: number; text: string }>;
}
// --- end namespace reader types ---

/** The kernel's answer to RTM_GETROUTE: what a packet toward `dst` would use. */
export interface NativeRoute {
  family: number;
  /** RTN_* route type: 1 unicast, 2 local, 6 blackhole, 7 unreachable, 8 prohibit … */
  type: number;
  table: number;
  oif: number;
  oifName?: string;
  prefsrc?: string;
  gateway?: string;
}

/** A subscription to rtnetlink address notifications; the callback runs on the JS thread. */
export interface NativeAddressWatch {
  close(): void;
}

// --- churn types (native/bench/churn.h) ---
/** What `churnStart` runs: the loop's options, all plain numbers and flags (policy stays in TS). */
export interface NativeChurnOptions {
  target: NativeSockAddr;
  /** Bound round robin (port 0) when not empty. */
  sources?: NativeSockAddr[];
  linger0?: boolean;
  bindNoPort?: boolean;
  /** IP_LOCAL_PORT_RANGE per socket when portHi is not 0. */
  portLo?: number;
  portHi?: number;
  concurrency?: number;
  /** Attempts to make; 0 or absent = no limit. */
  count?: number;
  durationMs?: number;
  /** Per connect; 0 or absent = none. */
  timeoutMs?: number;
  stopOnError?: boolean;
}

/** What a churn run hands back once, on the JS thread. Errno values here are positive. */
export interface NativeChurnResult {
  attempts: number;
  connects: number;
  errors: number;
  elapsedNs: number;
  cancelled: boolean;
  latencyMaxNs: number;
  latencyMinNs: number;
  /** Non-empty histogram buckets as pairs: [valueNs, count, valueNs, count, …]. */
  latency: Float64Array;
  errnos: Array<{ errno: number; count: number }>;
  /** The run could not start or had to stop (setns, epoll_create1, epoll_wait). */
  setupError?: { errno: number; syscall: string };
  firstFailure?: {
    errno: number;
    syscall: string;
    /** 1-based ordinal of the failed attempt. */
    attempt: number;
    atNs: number;
    local: NativeSockAddr;
    remote: NativeSockAddr;
  };
}
// --- end churn types ---

/** Every export of the addon. Each call returns its value, or a negative errno as a number. */
export interface NativeBinding {
  constants: NativeConstants;
  /** A new socket: this environment's (closed at its teardown) until closed or released. */
  socket(family: number, type: number): number;
  close(fd: number): number;
  /** The descriptor was handed over (to Node, to a caller): teardown leaves it. Whether it was held. */
  release(fd: number): boolean;
  setIntOption(fd: number, level: number, name: number, value: number): number;
  /** The option's value (>= 0), or -errno. */
  getIntOption(fd: number, level: number, name: number): number;
  setLinger(fd: number, on: boolean, seconds: number): number;
  getLinger(fd: number): { on: boolean; seconds: number } | number;
  setDevice(fd: number, name: string): number;
  getDevice(fd: number): string | number;
  setLocalPortRange(fd: number, lo: number, hi: number): number;
  getLocalPortRange(fd: number): [number, number] | number;
  bind(fd: number, addr: NativeSockAddr): number;
  listen(fd: number, backlog: number): number;
  /** 0 when connected at once, -EINPROGRESS while in progress, other -errno on failure. */
  connect(fd: number, addr: NativeSockAddr): number;
  /** SO_ERROR: 0 or a positive errno; negative when getsockopt itself failed. */
  socketError(fd: number): number;
  getsockname(fd: number): NativeSockAddr | number;
  getpeername(fd: number): NativeSockAddr | number;
  /** RTM_GETADDR dump joined with RTM_GETLINK. */
  addresses(): NativeAddress[] | number;
  /** Counts by state number (index = state, length 16) of the sockets matching the query. */
  socketCounts(query: NativeSocketQuery): number[] | number;
  /** The matching sockets, at most `limit` of them. */
  socketList(query: NativeSocketQuery, limit: number): NativeSocketEntry[] | number;
  /**
   * The cookie, state, timer (idiag_timer) and timer's milliseconds left of every matching socket, one
   * index per socket, in typed arrays (no object per socket): forecast's readings.
   */
  socketIdentities(
    query: NativeSocketQuery,
  ): { cookies: ArrayBuffer; states: Uint8Array; timers: Uint8Array; expiresMs: Uint32Array } | number;
  /**
   * RTM_GETROUTE toward dst (optionally from src, out of ifindex oif or the interface named `device`,
   * resolved in the calling thread's namespace: -ENODEV when it has none). -ENETUNREACH etc. when none.
   */
  routeGet(query: {
    family: number;
    dst: string;
    src?: string;
    oif?: number;
    device?: string;
  }): NativeRoute | number;
  /** RTM_GETNEIGH dump of both families, as `ip neigh show`. */
  neighbours(): NativeNeighbour[] | number;
  /** socket(AF_PACKET, SOCK_DGRAM, ETH_P_ARP), close-on-exec and non-blocking: fd or -errno. */
  arpSocket(): number;
  /** bind(2) of an ARP packet socket to one interface: 0 or -errno. */
  arpBind(fd: number, ifindex: number): number;
  /** The Ethernet address of the interface a bound ARP socket is on ("aa:bb:…"), or -errno. */
  arpHardwareAddress(fd: number): string | number;
  /** One ARP payload (no Ethernet header) to ff:ff:ff:ff:ff:ff out of ifindex: bytes or -errno. */
  arpBroadcast(fd: number, ifindex: number, payload: Uint8Array): number;
  /** One received ARP payload into `buffer`: bytes, or -EAGAIN when nothing is queued. */
  arpRecv(fd: number, buffer: Uint8Array): number;
  /** Calls back (coalesced) whenever an IPv4 or IPv6 address is added, removed or changes flags. */
  watchAddresses(onChange: () => void): NativeAddressWatch | number;
  /** unshare(CLONE_NEWNET) for the calling (main) thread. Test support: a private namespace. */
  unshareNet(): number;
  /** if_nametoindex(3) in the calling thread's namespace: the index, or -ENODEV when no such interface. */
  ifNameToIndex(name: string): number;
  /** if_indextoname(3): the name, or -ENXIO when no interface has that index. */
  ifIndexToName(index: number): string | number;
  /** if_nameindex(3): every interface of the calling thread's namespace, or -errno. */
  interfaces(): Array<{ index: number; name: string }> | number;
  /**
   * Reads one network namespace on a thread of its own that enters it (setns) and exits: the TCP
   * table grouped by destination in one walk, then `files` opened from inside. The calling thread
   * and libuv's pool never change namespace. Resolves the reading, or -errno (pthread_create).
   */
  netnsRead(query: {
    path: string;
    /** 19 bytes per destination: 4 or 6, the address in 16 bytes (IPv4 in the first 4), the port big-endian. */
    dests: Uint8Array;
    top: number;
    files: string[];
    /** `walkMs` of the previous read of this namespace: TIME_WAIT timers started since are `fresh`. */
    sinceMs?: number;
  }): Promise<NativeNetnsReading | number>;
  // --- churn methods ---
  /**
   * Starts a connect/close loop on a thread of its own (joined to the caller's network namespace).
   * `progress` (at least 5 doubles: attempts, connects, errors, elapsedNs, done) is updated as it
   * goes; `onDone` runs once on this thread. Returns the run id, or -errno.
   */
  churnStart(
    options: NativeChurnOptions,
    progress: ArrayBuffer,
    onDone: (result: NativeChurnResult) => void,
  ): number;
  /** Asks a run to stop; its onDone still follows. 0, or -ESRCH for an unknown id. */
  churnCancel(id: number): number;
  /** A loopback listener on its own thread that accepts at once and closes after the client. Id or -errno. */
  churnListen(addr: NativeSockAddr, backlog: number): number;
  churnListenerStats(id: number): { port: number; accepted: number; open: number } | number;
  churnListenerClose(id: number): number;
  // --- end churn methods ---
}
