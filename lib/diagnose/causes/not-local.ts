// What address-not-local and source-not-local share: the address is on no interface. The facts
// (which addresses the host has, whose subnet it lies in) and the first fix (attach it) are the same;
// each cause then adds its own summary and remedies.
import type { Address, Family, Remediation } from '../../types.js';
import type { SubnetMatch } from '../../model/index.js';
import type { Context, Endpoint } from '../context.js';
import { disabledIpv6Interfaces } from '../ipv6.js';
import {
  addressEvidence,
  baseEvidence,
  failedLine,
  guessInterface,
  hostLength,
  localOf,
  mappedLine,
} from '../local-address.js';
import { attachAddress } from '../remedies.js';
import { shellQuote } from '../shell.js';
import { describeAddress, formatEndpoint, listing, plural } from '../text.js';

const SHOWN_ADDRESSES = 8;

export interface NotLocalFacts {
  ep: Endpoint;
  family: Family;
  /** The address as the kernel looks it up ('10.0.0.50' for '::ffff:10.0.0.50'). */
  address: string;
  subnet: SubnetMatch | undefined;
  /** The host's addresses of the same family. */
  sameFamily: Address[];
  details: string[];
  evidence: Record<string, unknown>;
  /** Starts with attaching the address where it belongs. */
  remediation: Remediation[];
}

function addressListLine(ctx: Context, address: string, family: Family, sameFamily: Address[]): string {
  if (!ctx.addressesKnown) {
    return 'The address list of this host could not be read, so this rests on the error code alone.';
  }
  if (sameFamily.length === 0) {
    return `${address} is not an address of this host, which has no IPv${family} address at all.`;
  }
  const shown = sameFamily.slice(0, SHOWN_ADDRESSES).map(describeAddress);
  const more = sameFamily.length > SHOWN_ADDRESSES ? ` and ${sameFamily.length - SHOWN_ADDRESSES} more` : '';
  return `${address} is not among the ${plural(sameFamily.length, `IPv${family} address`, `IPv${family} addresses`)} of this host: ${shown.join(', ')}${more}.`;
}

export function notLocalFacts(ctx: Context): NotLocalFacts {
  const ep = localOf(ctx);
  const family = ep.family ?? 4;
  const address = ep.lookupText;
  const subnet = ep.subnet;
  const sameFamily = ctx.addresses.filter((entry) => entry.family === family);
  const details = [failedLine(ctx, ep), ...mappedLine(ep), addressListLine(ctx, address, family, sameFamily)];
  if (subnet !== undefined) {
    details.push(
      `${address} lies in ${subnet.interface}'s subnet ${subnet.cidr} (${subnet.interface} has ${subnet.address.address}/${subnet.prefixLength}): ` +
        'an address meant for that link (a VIP, secondary or DHCP address) that is not attached yet, or was removed.',
    );
  } else if (ctx.addressesKnown) {
    details.push(
      `No interface's subnet contains ${address}: check the configured address for a typo, or whether it belongs to another host.`,
    );
  }
  const disabledV6 = ep.ip?.family === 6 && !ep.mapped ? disabledIpv6Interfaces(ctx) : [];
  if (disabledV6.length > 0) {
    details.push(
      `IPv6 is disabled on ${listing(disabledV6)} (disable_ipv6 = 1): if ${address} belongs there, it was removed with the rest of its IPv6 addresses.`,
    );
  }

  const iface = subnet?.interface ?? guessInterface(ctx, family) ?? '<interface>';
  const prefixLength = subnet?.prefixLength ?? hostLength(family);
  const evidence = baseEvidence(ctx, ep);
  evidence['localAddresses'] = sameFamily.map(addressEvidence);
  if (subnet !== undefined) {
    evidence['subnet'] = {
      interface: subnet.interface,
      network: subnet.network,
      prefixLength: subnet.prefixLength,
      cidr: subnet.cidr,
      address: subnet.address.address,
    };
  }
  const remediation = [attachAddress(address, prefixLength, iface)];
  if (subnet !== undefined && ctx.host.linkAsked !== true) {
    // An address of the link's subnet may be another host's: a VIP its peer holds (keepalived
    // MASTER), a duplicate. Nothing here asked the link, so the add comes after asking.
    details.push(
      `Whether another host on ${subnet.interface} answers for ${address} was not asked (no probe): a VIP its peer holds looks the same from here.`,
    );
    const attach = remediation[0]!;
    remediation.splice(0, 1, askTheLinkRemedy(ep, subnet.interface), {
      ...attach,
      title: `${attach.title}, once nothing else on ${subnet.interface} answers for it`,
      warning:
        `Adding an address another host holds takes it over from that host. ${attach.warning ?? ''}`.trim(),
    });
  }
  return { ep, family, address, subnet, sameFamily, details, evidence, remediation };
}

/** Asks the link who has the address (ARP or neighbour solicitation), as preflight --probe does. */
function askTheLinkRemedy(ep: Endpoint, iface: string): Remediation {
  const target = formatEndpoint(ep.lookupText, ep.port ?? 0);
  return {
    title: `First ask ${iface} whether another host answers for ${ep.lookupText}: if one does, the address is that host's (fix the configuration or the failover), not this one's to add`,
    commands: [`safebind preflight --probe --bind ${shellQuote(target)}`],
  };
}

/** The summary's tail for an address that belongs to a link's subnet but is not attached to it. */
export function unattachedNote(subnet: { interface: string; cidr: string } | undefined): string {
  return subnet !== undefined
    ? ` (it is in ${subnet.interface}'s subnet ${subnet.cidr} but not attached)`
    : '';
}
