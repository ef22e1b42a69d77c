// address-appeared: the address is there now; the bind ran before it was (a start-up race with the
// interface, VIP, DHCP or DAD).
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';
import {
  dadTransmits,
  failedLine,
  interfaceFlag,
  mappedLine,
  presentAddressFacts,
  shownLocal,
} from '../local-address.js';
import { freebindRemedy, networkOnlineRemedy, waitForAddressRemedy } from '../remedies.js';

export function addressAppeared(ctx: Context): Diagnosis {
  const { ep, address, evidence } = presentAddressFacts(ctx);
  const entry = ep.present[0];
  const where = entry !== undefined ? ` on ${entry.interface}` : '';
  const probed = ctx.host.rebind?.ok === true;
  const details = [failedLine(ctx, ep), ...mappedLine(ep)];
  if (entry !== undefined) {
    details.push(
      `${address} is now on ${entry.interface} (${entry.address}/${entry.prefixLength}, flags ${entry.flags.join(' ')}).`,
    );
  } else if (probed) {
    details.push(`${address} was not in the address list read, but the probe bind below found it bindable.`);
  }
  details.push(
    probed
      ? `A probe bind of ${address} made after the failure succeeded: the address became bindable in between.`
      : 'No probe bind was made; a present address binds (IPv4 whatever the link state, IPv6 once it is no longer tentative), so it was most likely attached after the failure.',
  );
  if (entry !== undefined && entry.family === 4 && !interfaceFlag(ctx, entry.interface, 'up')) {
    details.push(
      `${entry.interface} is down, but IPv4 addresses bind whatever the link state: the link is not why the bind failed.`,
    );
  }
  if (entry !== undefined && entry.family === 6) {
    const transmits = dadTransmits(ctx, entry.interface);
    details.push(
      `A new IPv6 address stays tentative while duplicate address detection runs (net.ipv6.conf.${entry.interface}.dad_transmits = ${transmits}, about ${transmits} s), and a bind in that window fails the same way.`,
    );
  }
  details.push(
    'The usual race: the service starts before DHCP, keepalived or the interface bring-up attaches the address.',
  );
  evidence['rebind'] = ctx.host.rebind ?? 'not attempted';
  return {
    cause: 'address-appeared',
    code: ctx.code,
    summary: `${address} is${where} now${probed ? ' and binds' : ''}: bind ${shownLocal(ep)} ran before the address was ready (a start-up race)`,
    details,
    evidence,
    remediation: [
      waitForAddressRemedy(address, ctx.failure.waitedMs),
      freebindRemedy('the address exists'),
      networkOnlineRemedy(),
    ],
  };
}
