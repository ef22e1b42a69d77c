// scope-id-required: a link-local IPv6 address bound without the link (scope id) it lives on.
import type { Diagnosis } from '../../types.js';
import { isLinkLocalV6 } from '../../model/index.js';
import type { Context } from '../context.js';
import { baseEvidence, failedLine, localOf } from '../local-address.js';
import { formatEndpoint, listing } from '../text.js';

export function scopeIdRequired(ctx: Context): Diagnosis {
  const ep = localOf(ctx);
  const linkLocal = ctx.hostIps
    .filter(({ entry, ip }) => isLinkLocalV6(ip) && !entry.flags.includes('loopback'))
    .map(({ entry }) => entry);
  const owners = ep.present.map((entry) => entry.interface);
  const candidates = [...new Set([...owners, ...linkLocal.map((entry) => entry.interface)])];
  const best = candidates[0] ?? '<interface>';
  const details = [
    failedLine(ctx, ep),
    `${ep.host} is a link-local IPv6 address (fe80::/10): every link has its own, so the kernel needs the interface (scope id) to know which link is meant.`,
  ];
  if (owners.length > 0) details.push(`${ep.host} is on ${listing(owners)}.`);
  details.push(
    linkLocal.length > 0
      ? `Interfaces with link-local addresses: ${linkLocal.map((entry) => `${entry.interface} (${entry.address})`).join(', ')}.`
      : 'No interface of this host has a link-local address.',
  );
  const evidence = baseEvidence(ctx, ep);
  evidence['owners'] = owners;
  evidence['linkLocal'] = linkLocal.map((entry) => ({ interface: entry.interface, address: entry.address }));
  return {
    cause: 'scope-id-required',
    code: ctx.code,
    summary: `Cannot bind ${formatEndpoint(ep.host, ep.port)}: link-local ${ep.host} needs its interface, as ${ep.host}%${best}`,
    details,
    evidence,
    remediation: [
      {
        title: `Name the interface in the address: ${ep.host}%${best}${candidates.length > 1 ? ` (or ${candidates.slice(1).join(', ')})` : ''}`,
        option: `host: '${ep.host}%${best}'`,
      },
      { title: `Or bind the socket to the interface (SO_BINDTODEVICE)`, option: `device: '${best}'` },
    ],
  };
}
