// Native addons and worker threads do not mix well: every test file runs in its own forked process,
// which is also what lets a test move that process into a private network namespace.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    isolate: true,
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
