// Address bytes to text, the way inet_ntop(3) writes them (RFC 5952: lower case, the longest run of
// zero groups compressed, v4-mapped IPv6 as ::ffff:a.b.c.d). Pure; shared by the /proc reader and
// the diagnose layer so an address reads the same wherever safebind prints it.
import { SocketAddress } from 'node:net';

/** Formats 4 (IPv4) or 16 (IPv6) address bytes. */
export function formatIpBytes(bytes: ArrayLike<number>): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new TypeError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // SocketAddress parses with inet_pton and prints with inet_ntop: the canonical form, not ours.
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}
