// The pure diagnose layer: (failure, host snapshot) → Diagnosis. No I/O; lib/api gathers the snapshot.
// The context parses everything once, decide.ts picks the cause, the cause's module (causes/) explains
// it, and host-notes.ts adds what holds whatever the cause.
import type { Diagnosis } from '../types.js';
import { causes } from './causes/index.js';
import { buildContext } from './context.js';
import { decide } from './decide.js';
import { addHostNotes } from './host-notes.js';
import type { Attempt, HostSnapshot } from './input.js';

/** Explains a failed bind, listen or connect from the facts read on the host right after it. */
export function diagnose(failure: Attempt, host: HostSnapshot): Diagnosis {
  const ctx = buildContext(failure, host);
  const verdict = decide(ctx);
  return addHostNotes(causes[verdict.cause](ctx, verdict), ctx);
}

export { EXHAUSTION_THRESHOLD } from './source-pool.js';
export type { Attempt, AttemptEndpoint, HostSnapshot } from './input.js';
