// address-dad-failed: another host on the link answered for the IPv6 address during duplicate
// address detection, and the kernel will not use it.
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';
import { failedLine, presentAddressFacts, shownLocal } from '../local-address.js';
import { ipAddrCommand } from '../remedies.js';
import { shellQuote } from '../shell.js';

export function addressDadFailed(ctx: Context): Diagnosis {
  const { ep, address, evidence } = presentAddressFacts(ctx);
  const entry = ep.present.find((candidate) => candidate.flags.includes('dadfailed')) ?? ep.present[0];
  const iface = entry?.interface ?? '<interface>';
  const prefixLength = entry?.prefixLength ?? 128;
  evidence['interface'] = iface;
  const readd = [
    ipAddrCommand('del', address, prefixLength, iface),
    ipAddrCommand('add', address, prefixLength, iface),
  ];
  return {
    cause: 'address-dad-failed',
    code: ctx.code,
    summary: `Cannot bind ${shownLocal(ep)}: ${address} failed duplicate address detection on ${iface}, another host on the link already uses it`,
    details: [
      failedLine(ctx, ep),
      `${address}/${prefixLength} is on ${iface} with flags ${entry?.flags.join(' ') ?? 'dadfailed'}: a neighbour answered for it during DAD, and the kernel will not use it.`,
      'It stays unusable until it is removed and added again after the other host gives it up.',
    ],
    evidence,
    remediation: [
      {
        title: `Find the other host that uses ${address} on ${iface}: its MAC address may be in the neighbour table, or ask the link with ndisc6 (if it is missing, it is in the ndisc6 package: apt-get install ndisc6 on Debian and Ubuntu)`,
        commands: [
          `ip -6 neigh show ${shellQuote(address)} dev ${shellQuote(iface)}`,
          `ndisc6 ${shellQuote(address)} ${shellQuote(iface)}`,
        ],
        warning:
          'Do not get past this with nodad or accept_dad=0: two hosts answering for one address both lose traffic.',
      },
      {
        title: `Or give this host another address on ${iface}`,
        commands: [
          ipAddrCommand('del', address, prefixLength, iface),
          ipAddrCommand('add', '<another address>', prefixLength, iface),
        ],
      },
      {
        title: `Once the other host no longer uses ${address}, remove it and add it again, so that the kernel checks the link once more`,
        commands: readd,
      },
    ],
  };
}
