// Interface addresses without rtnetlink. IPv6: /proc/net/if_inet6 lists every address with its
// index, prefix, scope and the low 8 IFA_F_* bits (tentative, dadfailed, deprecated, permanent…).
// IPv4: os.networkInterfaces() lists those on running links with their prefix; the local table of
// /proc/net/fib_trie adds those of links that are down or without carrier (they still bind), whose
// interface and prefix come from the connected route of /proc/net/route that contains them, when
// there is one. Link flags: see links.ts.
import { networkInterfaces } from 'node:os';
import type { Address, Result } from '../../types.js';
import { formatIpBytes } from '../../sys/ip-text.js';
import { parseIp, networkOf, sameIp } from '../../model/index.js';
import { hexToBytes } from '../proc-net.js';
import { linkOf, readLinks, type Links } from './links.js';
import { readProcNet, rows } from './proc-text.js';

// The low 8 IFA_F_* bits, the only ones /proc/net/if_inet6 prints (include/uapi/linux/if_addr.h);
// typed here because without the addon there is nothing to read them from. Bit 0x01 is
// IFA_F_SECONDARY, which IPv6 calls temporary.
const IF_INET6_FLAGS: Array<[number, string]> = [
  [0x01, 'temporary'],
  [0x02, 'nodad'],
  [0x04, 'optimistic'],
  [0x08, 'dadfailed'],
  [0x10, 'homeaddress'],
  [0x20, 'deprecated'],
  [0x40, 'tentative'],
  [0x80, 'permanent'],
];
/** IPV6_ADDR_LINK as if_inet6 prints the scope (net/ipv6/addrconf_core.c). */
const SCOPE_LINK = 0x20;

function linkFlags(name: string, links: Links): { flags: string[]; unknown: string[] } {
  const flags: string[] = [];
  const unknown = ['lower-up'];
  if (links.up.has(name)) flags.push('up');
  else if (!links.upKnown.has(name)) unknown.push('up');
  if (links.running.has(name)) flags.push('running');
  if (links.loopback.has(name) || name === 'lo') flags.push('loopback');
  return { flags, unknown };
}

function hexBytes(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return out;
}

function readV6(links: Links): Address[] | undefined {
  const table = readProcNet('if_inet6');
  if (!table.ok) return undefined;
  const out: Address[] = [];
  for (const [hex = '', index = '0', prefix = '0', scope = '0', bits = '0', name = ''] of rows(
    table.text,
    0,
  )) {
    const flagBits = Number.parseInt(bits, 16);
    const { flags, unknown } = linkFlags(name, links);
    for (const [bit, flag] of IF_INET6_FLAGS) if ((flagBits & bit) !== 0) flags.push(flag);
    // Bits above 0x80 (noprefixroute, stable-privacy, managetempaddr, mcautojoin) are not printed.
    unknown.push('address flags above permanent');
    const ifindex = Number.parseInt(index, 16);
    const address: Address = {
      interface: name,
      ifindex,
      address: formatIpBytes(hexBytes(hex)),
      family: 6,
      prefixLength: Number.parseInt(prefix, 16),
      flags,
      unknown,
    };
    if ((Number.parseInt(scope, 16) & 0xf0) === SCOPE_LINK) address.scopeId = ifindex;
    links.index.set(name, ifindex);
    out.push(address);
  }
  return out;
}

/** The /32 LOCAL leaves of the local table in /proc/net/fib_trie: every IPv4 address of the namespace. */
function localV4(text: string): string[] {
  const at = text.indexOf('\nLocal:');
  const local = at >= 0 ? text.slice(at) : text;
  const out: string[] = [];
  let leaf: string | undefined;
  for (const line of local.split('\n')) {
    const m = /^\s*\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(line);
    if (m) leaf = m[1];
    else if (leaf !== undefined && /^\s*\/32 host LOCAL$/.test(line) && !out.includes(leaf)) out.push(leaf);
  }
  return out;
}

type Connected = { iface: string; network: number[]; prefixLength: number };

/** The connected (gateway-less, up) IPv4 routes of the main table, from /proc/net/route. */
function connectedRoutes(): Connected[] {
  const table = readProcNet('route');
  if (!table.ok) return [];
  const out: Connected[] = [];
  // Iface Destination Gateway Flags RefCnt Use Metric Mask …; RTF_UP 0x1, RTF_GATEWAY 0x2.
  for (const [iface = '', dst = '', , flags = '0', , , , mask = ''] of rows(table.text)) {
    const f = Number.parseInt(flags, 16);
    if ((f & 0x1) === 0 || (f & 0x2) !== 0) continue;
    const maskBytes = hexToBytes(mask);
    const prefixLength = maskBytes.reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0);
    out.push({ iface, network: hexToBytes(dst), prefixLength });
  }
  return out.sort((a, b) => b.prefixLength - a.prefixLength);
}

function readV4(links: Links): { addresses: Address[]; fibRead: boolean } {
  const out: Address[] = [];
  for (const [label, entries] of Object.entries(networkInterfaces())) {
    const name = linkOf(label);
    for (const e of entries ?? []) {
      if (e.family !== 'IPv4') continue;
      const { flags, unknown } = linkFlags(name, links);
      out.push({
        interface: name,
        ifindex: links.index.get(name) ?? 0,
        address: e.address,
        family: 4,
        prefixLength: Number((e.cidr ?? '/32').split('/')[1]),
        flags,
        unknown: [...unknown, 'address flags'],
      });
    }
  }
  const fib = readProcNet('fib_trie');
  if (!fib.ok) return { addresses: out, fibRead: false };
  const routes = connectedRoutes();
  for (const text of localV4(fib.text)) {
    if (out.some((a) => a.address === text)) continue;
    const ip = parseIp(text);
    if (ip === undefined) continue;
    const route = routes.find((r) =>
      sameIp(networkOf(ip, r.prefixLength), { family: 4, bytes: Uint8Array.from(r.network) }),
    );
    if (route !== undefined) {
      const { flags, unknown } = linkFlags(route.iface, links);
      out.push({
        interface: route.iface,
        ifindex: links.index.get(route.iface) ?? 0,
        address: text,
        family: 4,
        prefixLength: route.prefixLength,
        flags,
        unknown: [...unknown, 'address flags'],
      });
    } else {
      // Local, but no connected route names its link: a down link, or a /32 or noprefixroute address.
      out.push({
        interface: '',
        ifindex: 0,
        address: text,
        family: 4,
        prefixLength: 32,
        flags: [],
        unknown: ['interface', 'prefixLength', 'up', 'running', 'lower-up', 'address flags'],
      });
    }
  }
  return { addresses: out, fibRead: true };
}

/**
 * Every IPv4 and IPv6 address of the calling thread's namespace, as far as /proc and Node show them;
 * each address's `unknown` names what could not be read. Fails only when neither family could be read.
 */
export function readAddressesFromProc(): Result<Address[]> {
  const links = readLinks();
  const v6 = readV6(links);
  const v4 = readV4(links);
  if (v6 === undefined && !v4.fibRead && v4.addresses.length === 0) {
    const failed = readProcNet('if_inet6');
    if (!failed.ok) return failed;
  }
  // if_inet6 may have named indexes networkInterfaces() could not: fill them in.
  for (const a of v4.addresses)
    if (a.ifindex === 0 && a.interface) a.ifindex = links.index.get(a.interface) ?? 0;
  return { ok: true, value: [...v4.addresses, ...(v6 ?? [])] };
}
