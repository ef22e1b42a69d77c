// Interface addresses with the flags bind() depends on (tentative, dadfailed, …), from rtnetlink.
import type { Address, Result } from '../types.js';
import { errnoResult } from '../sys/errors.js';
import { hostBinding } from './failure.js';

// The link flags worth showing beside an address: whether the link can carry it at all.
const LINK_FLAG_NAMES = ['up', 'running', 'lower-up', 'loopback', 'pointopoint'];

/**
 * Every IPv4 and IPv6 address of every interface, as `ip addr` lists them. `flags` holds link flags
 * (up, running, lower-up, loopback) and address flags (tentative, dadfailed, deprecated, secondary
 * (IPv4) / temporary (IPv6, same bit), permanent, nodad, …). `scopeId` is the ifindex for link-local
 * IPv6, the value a sockaddr_in6 needs.
 */
export function readAddresses(): Result<Address[]> {
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const raw = b.addresses();
  if (typeof raw === 'number') return errnoResult('RTM_GETADDR', raw);
  const { addressFlags, linkFlags, scopes } = b.constants;
  const AF_INET6 = b.constants.AF_INET6;
  const out: Address[] = [];
  for (const a of raw) {
    const family = a.family === AF_INET6 ? 6 : 4;
    const flags: string[] = [];
    for (const name of LINK_FLAG_NAMES) {
      const bit = linkFlags[name];
      if (bit !== undefined && (a.linkFlags & bit) !== 0) flags.push(name);
    }
    for (const [name, bit] of Object.entries(addressFlags)) {
      if ((a.ifaFlags & bit) === 0) continue;
      flags.push(name === 'secondary' && family === 6 ? 'temporary' : name);
    }
    const address: Address = {
      interface: a.ifname,
      ifindex: a.ifindex,
      address: a.address,
      family,
      prefixLength: a.prefixLength,
      flags,
    };
    if (family === 6 && a.scope === scopes.link) address.scopeId = a.ifindex;
    out.push(address);
  }
  return { ok: true, value: out };
}
