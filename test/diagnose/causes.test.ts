// The table of cause modules: every Cause of lib/types.ts has exactly one module, and each module
// explains the cause it is registered for. The build already refuses a missing entry (`satisfies
// Record<Cause, …>`); this proves the same at run time, and that no entry answers for another cause.
import { describe, expect, it } from 'vitest';
import { causes } from '../../lib/diagnose/causes/index.js';
import { buildContext } from '../../lib/diagnose/context.js';
import type { Cause } from '../../lib/types.js';
import { connectFailure, snapshot } from './fixtures.js';

const ALL_CAUSES = [
  'address-not-local',
  'address-appeared',
  'address-tentative',
  'address-dad-failed',
  'address-on-other-host',
  'family-unavailable',
  'scope-id-required',
  'source-not-local',
  'ephemeral-ports-exhausted',
  'bind-ports-exhausted',
  'port-in-use',
  'port-privileged',
  'no-route',
  'connection-refused',
  'name-not-resolved',
  'invalid-address',
  'unsupported-platform',
  'unknown',
] as const satisfies readonly Cause[];

// A Cause added to lib/types.ts and not to this list fails the typecheck here.
type Unlisted = Exclude<Cause, (typeof ALL_CAUSES)[number]>;
const everyCauseListed: [Unlisted] extends [never] ? true : Unlisted = true;

describe('the cause table', () => {
  it('has one module for every Cause and none for anything else', () => {
    expect(everyCauseListed).toBe(true);
    expect(Object.keys(causes).sort()).toEqual([...ALL_CAUSES].sort());
  });

  it.each(ALL_CAUSES)(
    'the module registered for %s explains that cause, with a summary and details',
    (cause) => {
      const ctx = buildContext(
        connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL', { localAddress: '10.0.0.50' }),
        snapshot(),
      );
      const diagnosis = causes[cause](ctx, { cause, reasons: ['a reason'] });
      expect(diagnosis.cause).toBe(cause);
      expect(diagnosis.summary).not.toBe('');
      expect(diagnosis.details.length).toBeGreaterThan(0);
    },
  );
});
