// Native addons and worker threads do not mix well: every test file runs in its own forked process,
// which is also what lets a test move that process into a private network namespace.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    isolate: true,
    include: ['test/**/*.test.ts'],
    // test/arm64 runs only on an arm64 Node: `npm run test:arm64` (vitest.arm64.config.ts).
    exclude: [...configDefaults.exclude, 'test/arm64/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
