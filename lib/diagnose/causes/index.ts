// The table of causes: one module per Cause (DESIGN.md, "Causes"), each turning the facts in the
// context into a Diagnosis. `satisfies Record<Cause, CauseBuilder>` makes a Cause without a module,
// or a module for no Cause, a build error here.
import type { Cause, Diagnosis } from '../../types.js';
import type { Context } from '../context.js';
import type { Verdict } from '../decide.js';
import { addressAppeared } from './address-appeared.js';
import { addressDadFailed } from './address-dad-failed.js';
import { addressNotLocal } from './address-not-local.js';
import { addressOnOtherHost } from './address-on-other-host.js';
import { addressTentative } from './address-tentative.js';
import { bindPortsExhausted } from './bind-ports-exhausted.js';
import { connectionRefused } from './connection-refused.js';
import { ephemeralPortsExhausted } from './ephemeral-ports-exhausted.js';
import { familyUnavailable } from './family-unavailable.js';
import { invalidAddress } from './invalid-address.js';
import { nameNotResolved } from './name-not-resolved.js';
import { noRoute } from './no-route.js';
import { portInUse } from './port-in-use.js';
import { portPrivileged } from './port-privileged.js';
import { scopeIdRequired } from './scope-id-required.js';
import { sourceNotLocal } from './source-not-local.js';
import { unknownCause } from './unknown.js';
import { unsupportedPlatform } from './unsupported-platform.js';

/** Explains one cause: summary, details, evidence and remediation from the context (and, for `unknown`, the verdict's reasons). */
export type CauseBuilder = (ctx: Context, verdict: Verdict) => Diagnosis;

export const causes = {
  'address-not-local': addressNotLocal,
  'address-appeared': addressAppeared,
  'address-tentative': addressTentative,
  'address-dad-failed': addressDadFailed,
  'address-on-other-host': addressOnOtherHost,
  'family-unavailable': familyUnavailable,
  'scope-id-required': scopeIdRequired,
  'source-not-local': sourceNotLocal,
  'ephemeral-ports-exhausted': ephemeralPortsExhausted,
  'bind-ports-exhausted': bindPortsExhausted,
  'port-in-use': portInUse,
  'port-privileged': portPrivileged,
  'no-route': noRoute,
  'connection-refused': connectionRefused,
  'name-not-resolved': nameNotResolved,
  'invalid-address': invalidAddress,
  'unsupported-platform': unsupportedPlatform,
  unknown: unknownCause,
} satisfies Record<Cause, CauseBuilder>;
