// The notes that hold whatever the cause was: ip_nonlocal_bind where it bears on the failure, the
// sysctls that could not be read, and what was not checked at all.
import type { Diagnosis } from '../types.js';
import { nonlocalBindName, nonlocalBindOn, type Context } from './context.js';
import { nonlocalBindIsOn } from './remedies.js';

/** A copy of `diagnosis` (of any cause) with those notes added. */
export function addHostNotes(diagnosis: Diagnosis, ctx: Context): Diagnosis {
  const details = [...diagnosis.details];
  const evidence = { ...diagnosis.evidence };
  const remediation = [...diagnosis.remediation];
  const family = ctx.local?.family ?? 4;
  if (ctx.step === 'bind' && ctx.code === 'EADDRNOTAVAIL' && nonlocalBindOn(ctx)) {
    const name = nonlocalBindName(family);
    details.push(
      `${name} is 1 on this host now: binds of addresses that are absent or tentative succeed for every process, ` +
        'so this failure predates the setting or came from another network namespace.',
    );
    evidence['ipNonlocalBind'] = true;
    remediation.push(nonlocalBindIsOn(family));
  }
  const unreadable = Object.entries(ctx.sysctls?.unreadable ?? {});
  if (unreadable.length > 0) {
    details.push(
      `Sysctls that could not be read: ${unreadable.map(([name, why]) => `${name} (${why})`).join(', ')}.`,
    );
  }
  if (ctx.host.unavailable.length > 0) {
    details.push(...ctx.host.unavailable.map((what) => `Not checked: ${what}.`));
    evidence['unavailable'] = ctx.host.unavailable;
  }
  return { ...diagnosis, details, evidence, remediation };
}
