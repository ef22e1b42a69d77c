// The kernel's rule for two sockets on one port (inet_bind_conflict, inet_rcv_saddr_equal,
// ipv6_rcv_saddr_equal; udp_lib_lport_inuse), as measured in docs/kernel-facts.md, "bind() conflicts
// on one TCP port". The one place that decides which holder of a port stands in the way of a bind:
// everything that names a process to stop asks this. Pure.
//
// Each socket covers at most one IPv4 address set and one IPv6 address set: an IPv4 socket covers
// its IPv4 address (all of them for 0.0.0.0) and no IPv6; '::' covers every IPv6 address, and every
// IPv4 address too unless IPV6_V6ONLY is set; '::ffff:a.b.c.d' is IPv4 for the rule; any other IPv6
// address covers itself only (the kernel sets IPV6_V6ONLY when a socket binds one). Two sockets'
// addresses overlap when they share a family in which one is the wildcard or both are the same.
//
// SO_BINDTODEVICE (inet_bind_conflict: `!sk->sk_bound_dev_if || !sk2->sk_bound_dev_if ||
// sk->sk_bound_dev_if == sk2->sk_bound_dev_if`): two sockets bound to different devices never
// conflict, whatever their addresses; one bound and one not, or both to the same device, fall to the
// address rule. An IPv6 socket that never set IPV6_V6ONLY takes it from net.ipv6.bindv6only when it
// is created (measured, docs/kernel-facts.md: "SO_BINDTODEVICE and net.ipv6.bindv6only").
import { mappedV4, parseIp, sameIp, isUnspecified, type Ip } from './ip.js';

/** What a socket covers in one family: nothing, every address, or one address. */
type Cover = 'none' | 'any' | Ip;

/** One side of the rule: a socket bound to a port, or about to be. */
export interface BoundEnd {
  /** The local address as text: '0.0.0.0', '::', '::1', '::ffff:127.0.0.1', '10.0.0.5'. */
  address: string;
  /**
   * IPV6_V6ONLY of an IPv6 socket (sock_diag's INET_DIAG_SKV6ONLY, sent for LISTEN and CLOSE
   * sockets only). Undefined: not known; it matters only for '::', where unknown is answered as
   * "maybe".
   */
  v6only?: boolean | undefined;
  /**
   * SO_BINDTODEVICE: the interface name, '' for none. Undefined: not known (a holder read from
   * /proc/net); for a new bind, undefined is none.
   */
  device?: string | undefined;
}

/** The socket that holds the port, as the socket table shows it. */
export interface Holder extends BoundEnd {
  /** Its TCP state name (LISTEN, ESTABLISHED, TIME_WAIT, CLOSE …); UDP sockets: UNCONN or ESTAB. */
  state: string;
  uid: number;
  /**
   * SO_REUSEADDR / SO_REUSEPORT of the holder. sock_diag does not report them (nor the flag a
   * TIME_WAIT socket kept from its origin): undefined means unknown, and an exception that needs
   * them is answered "maybe".
   */
  reuseAddress?: boolean | undefined;
  reusePort?: boolean | undefined;
}

/** The bind that failed (or is planned). */
export interface NewBind extends BoundEnd {
  protocol: 'tcp' | 'udp';
  /** The step that failed was listen(): SO_REUSEADDR never shares a port with a listener. */
  listening: boolean;
  reuseAddress: boolean;
  reusePort: boolean;
  /** The uid that binds: SO_REUSEPORT shares only between sockets of one uid. */
  uid?: number | undefined;
}

export type ConflictVerdict =
  /** The addresses overlap and no exception applies: this socket blocks the bind. */
  | 'conflict'
  /** The addresses do not overlap, or an exception applies for sure. */
  | 'none'
  /** The addresses overlap, and whether an exception applies depends on what sock_diag hides. */
  | 'maybe';

export interface ConflictAnswer {
  verdict: ConflictVerdict;
  /** Why, in words, for the details of a diagnosis. */
  reason: string;
}

function v4Cover(ip: Ip): Cover {
  return isUnspecified(ip) ? 'any' : ip;
}

/** [IPv4 cover, IPv6 cover] of a socket bound to `end`; undefined v6only on '::' reads as `assume`. */
function covers(end: BoundEnd, ip: Ip, assumeV6only: boolean): [Cover, Cover] {
  if (ip.family === 4) return [v4Cover(ip), 'none'];
  const v4 = mappedV4(ip);
  if (v4 !== undefined) return [v4Cover(v4), 'none'];
  if (isUnspecified(ip)) return [(end.v6only ?? assumeV6only) ? 'none' : 'any', 'any'];
  return ['none', ip];
}

function overlap(a: Cover, b: Cover): boolean {
  if (a === 'none' || b === 'none') return false;
  if (a === 'any' || b === 'any') return true;
  return sameIp(a, b);
}

function addressesOverlap(holder: BoundEnd, h: Ip, bind: BoundEnd, b: Ip, assume: boolean): boolean {
  const [h4, h6] = covers(holder, h, assume);
  const [b4, b6] = covers(bind, b, assume);
  return overlap(h4, b4) || overlap(h6, b6);
}

/**
 * Whether `holder` stands in the way of `bind` on the same port and protocol. The new bind's
 * IPV6_V6ONLY, when undefined, is the system default `net.ipv6.bindv6only` the caller passes (read
 * from the host); when that is undefined too (not read), both values are tried and a difference
 * answers "maybe".
 */
export function conflicts(holder: Holder, bind: NewBind, bindv6only?: boolean): ConflictAnswer {
  const h = parseIp(holder.address);
  const b = parseIp(bind.address);
  if (h === undefined || b === undefined)
    return { verdict: 'maybe', reason: `${holder.address} or ${bind.address} is not an IP address` };
  const bindDevice = bind.device ?? '';
  if (
    holder.device !== undefined &&
    holder.device !== '' &&
    bindDevice !== '' &&
    holder.device !== bindDevice
  )
    return {
      verdict: 'none',
      reason: `bound to another device (SO_BINDTODEVICE ${holder.device}, this bind ${bindDevice})`,
    };
  const deviceUnknown = holder.device === undefined && bindDevice !== '';
  const v6only = bind.v6only ?? bindv6only;
  if (v6only === undefined) {
    const dual = conflicts(holder, { ...bind, v6only: false });
    const only = conflicts(holder, { ...bind, v6only: true });
    if (dual.verdict === only.verdict) return dual;
    return {
      verdict: 'maybe',
      reason: `${dual.verdict === 'none' ? only.reason : dual.reason} if this bind's IPV6_V6ONLY is off (net.ipv6.bindv6only was not read)`,
    };
  }
  const answer = decide(holder, h, { ...bind, v6only }, b);
  if (deviceUnknown && answer.verdict === 'conflict')
    return {
      verdict: 'maybe',
      reason: `${answer.reason}, unless it is bound to a device other than ${bindDevice} (SO_BINDTODEVICE), which /proc/net does not show`,
    };
  return answer;
}

function decide(holder: Holder, h: Ip, bind: NewBind & { v6only: boolean }, b: Ip): ConflictAnswer {
  const newBind: BoundEnd = { address: bind.address, v6only: bind.v6only };
  // An unknown v6only on a '::' holder: decide both ways; if they agree, the flag did not matter.
  const asDual = addressesOverlap(holder, h, newBind, b, false);
  const asV6only = addressesOverlap(holder, h, newBind, b, true);
  if (!asDual && !asV6only)
    return { verdict: 'none', reason: 'the addresses do not overlap (family, IPV6_V6ONLY, address)' };
  const overlapSure = asDual && asV6only;

  const listener = holder.state === 'LISTEN';
  // SO_REUSEPORT: both set it and both run as one uid (sock_diag gives the holder's uid, not the flag).
  if (bind.reusePort) {
    if (bind.uid !== undefined && bind.uid !== holder.uid)
      return sure(overlapSure, 'the addresses overlap; SO_REUSEPORT does not share between uids');
    if (holder.reusePort === true) return { verdict: 'none', reason: 'both sockets set SO_REUSEPORT' };
    if (holder.reusePort === undefined)
      return {
        verdict: 'maybe',
        reason:
          'the addresses overlap; it shares the port only if it set SO_REUSEPORT too, which sock_diag does not show',
      };
  }
  // SO_REUSEADDR: TCP shares only while neither socket listens; UDP shares whatever the state.
  const reuseCan = bind.protocol === 'udp' || (!listener && !bind.listening);
  if (bind.reuseAddress && reuseCan) {
    if (holder.reuseAddress === true) return { verdict: 'none', reason: 'both sockets set SO_REUSEADDR' };
    if (holder.reuseAddress === undefined)
      return {
        verdict: 'maybe',
        reason:
          holder.state === 'TIME_WAIT'
            ? 'the addresses overlap; a TIME_WAIT socket yields to SO_REUSEADDR only if the connection it came from set it too, which sock_diag does not show'
            : 'the addresses overlap; it shares the port only if it set SO_REUSEADDR too, which sock_diag does not show',
      };
  }
  if (bind.reuseAddress && bind.protocol === 'tcp' && listener)
    return sure(overlapSure, 'the addresses overlap, and SO_REUSEADDR never shares a port with a listener');
  return sure(overlapSure, 'the addresses overlap');
}

function sure(overlapSure: boolean, reason: string): ConflictAnswer {
  return overlapSure
    ? { verdict: 'conflict', reason }
    : {
        verdict: 'maybe',
        reason: `${reason} if the '::' socket lacks IPV6_V6ONLY, which sock_diag did not report for it`,
      };
}
