// Builds dist/: ESM and CommonJS entry points with their .d.ts (the package and its `prometheus` subpath),
// the CLI, and the churn rehearsal's own entry. prom-client is a peer dependency, so it stays external
// and is loaded only by the subpath.
//
// The CLI is built on its own, ESM only (the `bin` is dist/cli/main.js), with code splitting: the entry
// holds the command definitions, and each command's implementation is a chunk of dist/cli/ that the
// command imports when it runs, so `safebind doctor` never loads bench churn's dependencies
// (bench/cli-startup.mjs measures the start-up). Its version is written in at build time, so no start
// reads package.json.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export default defineConfig([
  {
    entry: {
      index: 'lib/index.ts',
      prometheus: 'lib/prometheus.ts',
      // safebind/agent; undici (an optional peer) stays external and is required only by createDispatcher.
      agent: 'lib/agent.ts',
      // The capacity bench's child (a namespace of its own), as the churn rehearsal's.
      'bench/capacity-entry': 'lib/bench/capacity-entry.ts',
      // safebind/register (issue 14): a side-effect entry, loaded by --import (ESM) or -r (CommonJS).
      register: 'lib/register.ts',
      // The churn rehearsal's child runs this, not the CLI: the library needs no CLI build.
      'bench/rehearse-entry': 'lib/bench/rehearse-entry.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    shims: true,
    // dist/cli/ is the other build's, which runs at the same time.
    clean: ['!cli/**'],
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    // Shared code in chunks of its own (esbuild's splitting for ESM, tsup's for CommonJS): six
    // entries each bundling the whole library put the packed tarball over 1 MB.
    splitting: true,
  },
  {
    entry: { main: 'lib/cli/main.ts' },
    outDir: 'dist/cli',
    format: ['esm'],
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    define: { __SAFEBIND_VERSION__: JSON.stringify(version) },
    noExternal: ['commander', 'picocolors'],
    // Bundled into the CLI: both are CommonJS, and imported from ESM each start paid the package
    // resolution, the CommonJS loader and cjs-module-lexer over commander's files. Their require() of
    // builtins needs a `require` inside the ESM chunks: the banner makes one (so no chunk may declare
    // a top-level `require` of its own; the CLI tests would fail at load if one did).
    banner: {
      js: "import { createRequire as __sbCreateRequire } from 'node:module';\nconst require = __sbCreateRequire(import.meta.url);",
    },
  },
]);
