// source-not-local: the localAddress of an outbound connection is on no interface of this host.
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';
import { isUsable, shownRemote } from '../local-address.js';
import { freebindRemedy } from '../remedies.js';
import { listing } from '../text.js';
import { notLocalFacts, unattachedNote } from './not-local.js';

export function sourceNotLocal(ctx: Context): Diagnosis {
  const { address, subnet, sameFamily, details, evidence, remediation } = notLocalFacts(ctx);
  const destination = shownRemote(ctx);
  const usable = sameFamily.filter((entry) => isUsable(entry) && !entry.flags.includes('loopback'));
  const preferred = usable.find((entry) => entry.interface === subnet?.interface) ?? usable[0];
  if (preferred !== undefined) {
    remediation.push({
      title: `Use a source address this host has (${listing(usable.map((entry) => `${entry.address} on ${entry.interface}`))}), or leave localAddress out and let the route choose`,
      option: `localAddress: '${preferred.address}'`,
    });
  }
  remediation.push({
    ...freebindRemedy('the source address exists'),
    warning: `Replies from ${destination} reach this host only once ${address} is attached here or routed to it.`,
  });
  // Not waitForAddress: a bind's option; safeConnect and net.connect have none.
  remediation.push({
    title: `If ${address} is still coming up (a VIP, a DHCP address), connect once it is attached: retry with a backoff, or start the client after the network is configured`,
  });
  return {
    cause: 'source-not-local',
    code: ctx.code,
    summary:
      `Cannot connect to ${destination} from ${address}: the source address ${address} is not an address of this host` +
      unattachedNote(subnet),
    details,
    evidence,
    remediation,
  };
}
