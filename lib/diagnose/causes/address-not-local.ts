// address-not-local: the address being bound is on no interface of this host.
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';
import { shownLocal } from '../local-address.js';
import {
  freebindRemedy,
  networkOnlineRemedy,
  nonlocalBindRemedy,
  waitForAddressRemedy,
} from '../remedies.js';
import { notLocalFacts, unattachedNote } from './not-local.js';

export function addressNotLocal(ctx: Context): Diagnosis {
  const { ep, family, address, subnet, details, evidence, remediation } = notLocalFacts(ctx);
  remediation.push(
    freebindRemedy('the address exists'),
    waitForAddressRemedy(address, ctx.failure.waitedMs),
    networkOnlineRemedy(),
  );
  const nonlocalOn = family === 4 ? ctx.sysctls?.ipNonlocalBind.v4 : ctx.sysctls?.ipNonlocalBind.v6;
  if (nonlocalOn !== true) remediation.push(nonlocalBindRemedy(family));
  return {
    cause: 'address-not-local',
    code: ctx.code,
    summary:
      `Cannot bind ${shownLocal(ep)}: ${address} is not an address of this host` + unattachedNote(subnet),
    details,
    evidence,
    remediation,
  };
}
