// Builds dist/: ESM and CommonJS entry points with their .d.ts (the package and its `prometheus` subpath),
// and the CLI. prom-client is a peer dependency, so it stays external and is loaded only by the subpath.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'lib/index.ts',
    prometheus: 'lib/prometheus.ts',
    'cli/main': 'lib/cli/main.ts',
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
