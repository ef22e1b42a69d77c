// Builds dist/: ESM and CommonJS entry points with their .d.ts (the package and its `prometheus` subpath),
// the CLI, and the churn rehearsal's own entry. prom-client is a peer dependency, so it stays external
// and is loaded only by the subpath.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'lib/index.ts',
    prometheus: 'lib/prometheus.ts',
    'cli/main': 'lib/cli/main.ts',
    // The churn rehearsal's child runs this, not the CLI: the library needs no CLI build.
    'bench/rehearse-entry': 'lib/bench/rehearse-entry.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  shims: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
});
