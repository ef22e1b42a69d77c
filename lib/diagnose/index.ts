// The pure diagnose layer: (failure, host snapshot) → Diagnosis. No I/O; lib/api gathers the snapshot.
import type { Diagnosis } from '../types.js';
import { classify } from './classify.js';
import { buildContext } from './context.js';
import type { Failure, HostSnapshot } from './input.js';

/** Explains a failed bind, listen or connect from the facts read on the host right after it. */
export function diagnose(failure: Failure, host: HostSnapshot): Diagnosis {
  return classify(buildContext(failure, host));
}

export { EXHAUSTION_THRESHOLD } from './connect-causes.js';
export type { Failure, FailureEndpoint, HostSnapshot } from './input.js';
export { findContainingSubnet, type SubnetMatch } from './subnet.js';
