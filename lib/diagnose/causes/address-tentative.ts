// address-tentative: the IPv6 address is listed, but duplicate address detection is still running,
// or has not started. Measured (docs/kernel-facts.md): DAD starts once the link has had carrier
// since it was last brought up; a link that had it and lost it still finishes DAD (1.4–2 s), so
// "no carrier" alone does not mean "tentative until the link is back".
import type { Diagnosis, Remediation } from '../../types.js';
import type { Context } from '../context.js';
import {
  dadTransmits,
  failedLine,
  interfaceFlag,
  presentAddressFacts,
  shownLocal,
} from '../local-address.js';
import { freebindRemedy, linkUpRemedy, noDadRemedy, waitForAddressRemedy } from '../remedies.js';
import { plural } from '../text.js';

export function addressTentative(ctx: Context): Diagnosis {
  const { ep, address, evidence } = presentAddressFacts(ctx);
  const entry = ep.present.find((candidate) => candidate.flags.includes('tentative')) ?? ep.present[0];
  const iface = entry?.interface ?? ep.zone ?? '<interface>';
  const prefixLength = entry?.prefixLength ?? 128;
  const up = interfaceFlag(ctx, iface, 'up');
  const carrier = interfaceFlag(ctx, iface, 'running');
  const transmits = dadTransmits(ctx, iface);
  const acceptDad = ctx.sysctls?.acceptDad[iface];
  const details = [
    failedLine(ctx, ep),
    `${address}/${prefixLength} is on ${iface} with flags ${entry?.flags.join(' ') ?? 'tentative'}: the kernel lists it but will not bind a tentative IPv6 address.`,
  ];
  let summary: string;
  let remediation: Remediation[];
  if (!up) {
    summary = `Cannot bind ${shownLocal(ep)}: ${address} on ${iface} is tentative because ${iface} is down; it binds once the link is up, has carrier, and DAD completes`;
    details.push(
      `${iface} is down: duplicate address detection starts only after the link is brought up and has carrier.`,
    );
    remediation = [
      linkUpRemedy(iface, true),
      freebindRemedy('the address is usable'),
      waitForAddressRemedy(address, ctx.failure.waitedMs),
      noDadRemedy(address, prefixLength, iface),
    ];
  } else if (!carrier) {
    summary = `Cannot bind ${shownLocal(ep)}: ${address} on ${iface} is tentative and ${iface} has no carrier; DAD starts once the link has had carrier since it was brought up`;
    details.push(
      `${iface} is up but has no carrier (not running). The kernel starts duplicate address detection only once the link has had carrier since it was last brought up: ` +
        'if it had carrier and lost it, DAD completes anyway and the address binds about 2 s after it was added, link still down; ' +
        'if it has had none since it came up, the address stays tentative until carrier arrives.',
    );
    remediation = [
      linkUpRemedy(iface, false),
      freebindRemedy('the address is usable'),
      waitForAddressRemedy(address, ctx.failure.waitedMs),
      noDadRemedy(address, prefixLength, iface),
    ];
  } else {
    summary = `Cannot bind ${shownLocal(ep)}: ${address} on ${iface} is still tentative, duplicate address detection is running (dad_transmits = ${transmits}, about ${transmits} s)`;
    details.push(
      `${iface} is up with carrier; net.ipv6.conf.${iface}.dad_transmits is ${transmits}: DAD sends ${plural(transmits, 'neighbour solicitation')} about 1 s apart, then the address becomes usable.`,
    );
    remediation = [
      waitForAddressRemedy('DAD to finish', ctx.failure.waitedMs),
      freebindRemedy('DAD finishes'),
      noDadRemedy(address, prefixLength, iface),
    ];
  }
  if (acceptDad !== undefined) details.push(`net.ipv6.conf.${iface}.accept_dad is ${acceptDad}.`);
  Object.assign(evidence, {
    interface: iface,
    up,
    carrier,
    dadTransmits: transmits,
    acceptDad,
  });
  return { cause: 'address-tentative', code: ctx.code, summary, details, evidence, remediation };
}
