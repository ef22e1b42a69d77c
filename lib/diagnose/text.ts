// Formatting for diagnosis text: endpoints as people type them ('10.0.0.5:80', '[fd00::1]:443'),
// counts with separators, lists in words. Percentages follow lib/model's one rule (formatPercent).
import type { Address } from '../types.js';

/** 'fe80::1' + 'eth0' → 'fe80::1%eth0'; an address that already carries its zone is kept. */
export function withZone(host: string, zone: string | undefined): string {
  return zone === undefined || host.includes('%') ? host : `${host}%${zone}`;
}

/** '10.0.0.5:80', '[fd00::1]:443', '[fe80::1%eth0]:80'. */
export function formatEndpoint(host: string, port: number | undefined): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? host : `${shown}:${port}`;
}

/** 28232 → '28,232' without depending on the locale data Node was built with. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** 'a', 'a and b', 'a, b and c'. */
export function listing(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

/** '10.0.0.10/24 on eth0' */
export function describeAddress(address: Address): string {
  return `${address.address}/${address.prefixLength} on ${address.interface}`;
}

/** A tally of socket states, largest first: 'TIME_WAIT 27,000, ESTABLISHED 1,232'. */
export function describeStates(byState: Record<string, number>): string {
  return Object.entries(byState)
    .filter(([, n]) => n > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([state, n]) => `${state} ${count(n)}`)
    .join(', ');
}
