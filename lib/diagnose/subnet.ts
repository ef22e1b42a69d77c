// Which interface's subnet contains an address: the clue that an absent address is a VIP or secondary
// address meant for that interface. Prefix math on byte arrays, so IPv4 and IPv6 share one path.
import type { Address } from '../types.js';
import { formatIp, mappedV4, parseIp, type Ip } from './ip.js';

export interface SubnetMatch {
  interface: string;
  ifindex: number;
  /** The network address of the subnet: '10.0.0.0', 'fd00::'. */
  network: string;
  prefixLength: number;
  /** 'network/prefixLength' */
  cidr: string;
  /** The interface address whose subnet it is. */
  address: Address;
}

/** The address with every bit past `prefixLength` cleared. */
export function networkOf(ip: Ip, prefixLength: number): Ip {
  const bytes = ip.bytes.slice();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return { family: ip.family, bytes };
}

function contains(subnet: Ip, prefixLength: number, ip: Ip): boolean {
  if (subnet.family !== ip.family) return false;
  const a = networkOf(subnet, prefixLength).bytes;
  const b = networkOf(ip, prefixLength).bytes;
  return a.every((byte, i) => byte === b[i]);
}

/**
 * The interface address whose subnet contains `address`, longest prefix first. An IPv4-mapped IPv6
 * address ('::ffff:10.0.0.5') is looked up as its IPv4 address, as the kernel binds it. A '%zone' on
 * the address prefers that interface (every link has its own fe80::/64). /0 prefixes are skipped: a
 * subnet that contains everything says nothing about where the address belongs.
 */
export function findContainingSubnet(
  address: string,
  addresses: readonly Address[],
): SubnetMatch | undefined {
  const parsed = parseIp(address);
  if (parsed === undefined) return undefined;
  const ip = mappedV4(parsed) ?? parsed;
  let best: { entry: Address; ip: Ip; rank: number } | undefined;
  for (const entry of addresses) {
    const own = parseIp(entry.address);
    if (own === undefined || entry.prefixLength <= 0 || !contains(own, entry.prefixLength, ip)) continue;
    const zoneMatches =
      parsed.zone !== undefined && (parsed.zone === entry.interface || parsed.zone === String(entry.ifindex));
    // Prefix length dominates; then the named zone; then a real interface over loopback.
    const rank = entry.prefixLength * 4 + (zoneMatches ? 2 : 0) + (entry.flags.includes('loopback') ? 0 : 1);
    if (best === undefined || rank > best.rank) best = { entry, ip: own, rank };
  }
  if (best === undefined) return undefined;
  const network = formatIp(networkOf(best.ip, best.entry.prefixLength));
  return {
    interface: best.entry.interface,
    ifindex: best.entry.ifindex,
    network,
    prefixLength: best.entry.prefixLength,
    cidr: `${network}/${best.entry.prefixLength}`,
    address: best.entry,
  };
}
