// The destinations `safebind exporter` counts in every namespace: parsed and packed once, for
// netnsRead (lib/binding.ts), with what the forecast needs of each (whether it is loopback).
import { isIPv6 } from 'node:net';
import { isLoopback, mappedV4, parseIp } from '../model/ip.js';
import { destination } from './port-usage.js';

/** A destination to count, parsed once: its IP literal, port and label. */
export interface NetnsDest {
  host: string;
  port: number;
  /** `IP:PORT` or `[IPV6]:PORT`. */
  label: string;
}

/** Destinations parsed and packed once for every scrape: see netnsRead in lib/binding.ts. */
export interface PreparedDests {
  list: NetnsDest[];
  packed: Uint8Array;
  /** Whether each is loopback (where tcp_tw_reuse=2 applies). */
  loopback: boolean[];
}

const DEST_BYTES = 19;

/** Packs the destinations for the addon; throws a TypeError for a host that is not an IP literal. */
export function prepareDests(list: NetnsDest[]): PreparedDests {
  const packed = new Uint8Array(list.length * DEST_BYTES);
  list.forEach((d, i) => {
    const parsed = parseIp(d.host);
    if (!parsed) throw new TypeError(`not an IP literal: ${d.host}`);
    const ip = mappedV4(parsed) ?? parsed;
    const at = i * DEST_BYTES;
    packed[at] = ip.family;
    packed.set(ip.bytes, at + 1);
    packed[at + 17] = d.port >> 8;
    packed[at + 18] = d.port & 0xff;
  });
  return { list, packed, loopback: list.map((d) => isLoopbackHost(d.host)) };
}

/** The label of a destination, as PortUsage.destination writes it. */
export function destinationLabel(host: string, port: number): string {
  return destination(host, isIPv6(host) ? 6 : 4, port);
}

/** Whether an IP literal is loopback (127.0.0.0/8, ::1, or v4-mapped loopback): tcp_tw_reuse=2 applies. */
export function isLoopbackHost(host: string): boolean {
  const ip = parseIp(host);
  return ip !== undefined && isLoopback(mappedV4(ip) ?? ip);
}
