// IP literals as bytes: parsing and printing IPv4/IPv6 and their '%zone', so addresses compare by
// value ('fd00:0::1' and 'fd00::1' are the same address). Pure: no I/O, no interface lookups (a zone
// stays the text that was written); printing is shared with lib/sys.
import { formatIpBytes } from '../sys/ip-text.js';
import type { Family } from '../types.js';

export interface Ip {
  family: Family;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  bytes: Uint8Array;
  /** What followed '%' in 'fe80::1%eth0': an interface name or a numeric scope id. */
  zone?: string;
}

function parseV4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    // No leading zeros: inet_pton refuses them (is '010' octal?), and the kernel never prints them.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseV6Groups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    // An embedded IPv4 tail ('::ffff:10.0.0.1') is only allowed as the last part.
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseV4Bytes(part);
      if (v4 === undefined) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

function parseV6Bytes(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseV6Groups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseV6Groups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  }
  return bytes;
}

/**
 * '[fe80::1%eth0]' → { host: 'fe80::1', zone: 'eth0' }: the address without brackets, and what followed
 * '%' ('' when '%' ends the text), or no zone. Nothing is checked: see {@link parseIp} for that.
 */
export function splitZone(text: string): { host: string; zone?: string } {
  let body = text.trim();
  if (body.startsWith('[') && body.endsWith(']')) body = body.slice(1, -1);
  const percent = body.indexOf('%');
  return percent < 0 ? { host: body } : { host: body.slice(0, percent), zone: body.slice(percent + 1) };
}

/** A numeric zone ('%3') as the interface index it names; a name ('%eth0') gives undefined. */
export function zoneIndex(zone: string | undefined): number | undefined {
  return zone !== undefined && /^\d+$/.test(zone) ? Number(zone) : undefined;
}

/** Parses '10.0.0.5', 'fd00::1', '[fd00::1]', 'fe80::1%eth0'. Host names and garbage give undefined. */
export function parseIp(text: string): Ip | undefined {
  const { host: body, zone } = splitZone(text);
  if (zone === '') return undefined;
  if (!body.includes(':')) {
    const bytes = zone === undefined ? parseV4Bytes(body) : undefined;
    return bytes && { family: 4, bytes };
  }
  const bytes = parseV6Bytes(body);
  if (bytes === undefined) return undefined;
  return zone === undefined ? { family: 6, bytes } : { family: 6, bytes, zone };
}

/** The IPv4 address inside '::ffff:a.b.c.d', which the kernel binds as that IPv4 address. */
export function mappedV4(ip: Ip): Ip | undefined {
  if (ip.family !== 6) return undefined;
  for (let i = 0; i < 10; i++) if (ip.bytes[i] !== 0) return undefined;
  if (ip.bytes[10] !== 0xff || ip.bytes[11] !== 0xff) return undefined;
  return { family: 4, bytes: ip.bytes.slice(12) };
}

export function sameIp(a: Ip, b: Ip): boolean {
  return a.family === b.family && a.bytes.every((byte, i) => byte === b.bytes[i]);
}

/** fe80::/10: only meaningful together with the link (scope id) it lives on. */
export function isLinkLocalV6(ip: Ip): boolean {
  return ip.family === 6 && ip.bytes[0] === 0xfe && ((ip.bytes[1] ?? 0) & 0xc0) === 0x80;
}

export function isLoopback(ip: Ip): boolean {
  if (ip.family === 4) return ip.bytes[0] === 127;
  return ip.bytes.every((byte, i) => byte === (i === 15 ? 1 : 0));
}

export function isUnspecified(ip: Ip): boolean {
  return ip.bytes.every((byte) => byte === 0);
}

/**
 * 'multicast' (224.0.0.0/4, ff00::/8, and IPv4 multicast v4-mapped) or 'broadcast'
 * (255.255.255.255) when the address alone names a group of hosts, which TCP cannot connect to;
 * else undefined. A subnet's broadcast address takes the routing table to tell (its route's type).
 */
export function groupKind(ip: Ip): 'multicast' | 'broadcast' | undefined {
  const v4 = ip.family === 4 ? ip : mappedV4(ip);
  if (v4 === undefined) return ip.bytes[0] === 0xff ? 'multicast' : undefined;
  const first = v4.bytes[0] ?? 0;
  if (first >= 224 && first <= 239) return 'multicast';
  return v4.bytes.every((byte) => byte === 255) ? 'broadcast' : undefined;
}

/** Canonical text, as inet_ntop writes it: dotted quad, or RFC 5952 IPv6. */
export function formatIp(ip: Ip): string {
  return formatIpBytes(ip.bytes);
}
