// Which interface's subnet contains an address: the clue that an absent address is a VIP or secondary
// address meant for that interface. Prefix math on byte arrays, so IPv4 and IPv6 share one path.
import type { Address } from '../types.js';
import { formatIp, mappedV4, parseIp, type Ip } from './ip.js';

/** An address of this host with its text parsed once, so lookups compare bytes, not strings. */
export interface HostIp {
  entry: Address;
  ip: Ip;
}

/** The host's addresses parsed; an entry whose text is not an IP address is left out. */
export function parseAddresses(addresses: readonly Address[]): HostIp[] {
  return addresses.flatMap((entry) => {
    const ip = parseIp(entry.address);
    return ip === undefined ? [] : [{ entry, ip }];
  });
}

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
 * The host address whose subnet contains `ip`, longest prefix first. An IPv4-mapped IPv6 address
 * ('::ffff:10.0.0.5') is looked up as its IPv4 address, as the kernel binds it. A zone (an interface
 * name or index) prefers that interface: every link has its own fe80::/64. /0 prefixes are skipped:
 * a subnet that contains everything says nothing about where the address belongs.
 */
export function containingSubnet(
  ip: Ip,
  hosts: readonly HostIp[],
  zone: string | undefined = ip.zone,
): SubnetMatch | undefined {
  const lookup = mappedV4(ip) ?? ip;
  let best: (HostIp & { rank: number }) | undefined;
  for (const host of hosts) {
    const { entry } = host;
    if (entry.prefixLength <= 0 || !contains(host.ip, entry.prefixLength, lookup)) continue;
    const zoneMatches = zone !== undefined && (zone === entry.interface || zone === String(entry.ifindex));
    // Prefix length dominates; then the named zone; then a real interface over loopback.
    const rank = entry.prefixLength * 4 + (zoneMatches ? 2 : 0) + (entry.flags.includes('loopback') ? 0 : 1);
    if (best === undefined || rank > best.rank) best = { ...host, rank };
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

/** {@link containingSubnet} for an address and host addresses still as text. */
export function findContainingSubnet(
  address: string,
  addresses: readonly Address[],
): SubnetMatch | undefined {
  const ip = parseIp(address);
  return ip === undefined ? undefined : containingSubnet(ip, parseAddresses(addresses));
}
