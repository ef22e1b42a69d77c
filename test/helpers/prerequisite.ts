// What a test does when the machine lacks something it needs (root, a namespace, a tool).
// On a developer's machine it skips and prints why. Under CI (CI=true) it fails with the same
// reason instead: a CI run that cannot make a namespace would otherwise be green while testing
// nothing of the kernel.
import type { TestContext } from 'vitest';

/** True when the suite runs under CI, where a missing prerequisite is a failure, not a skip. */
export const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** Skips the test with the reason printed (outside CI), or fails it with the reason (under CI). */
export function unmet(ctx: TestContext, reason: string): never {
  if (inCI) throw new Error(`prerequisite missing under CI: ${reason}`);
  console.warn(`[skipped] "${ctx.task.name}": ${reason}`);
  ctx.skip(reason);
  // ctx.skip throws; this line only tells TypeScript so.
  throw new Error(reason);
}
