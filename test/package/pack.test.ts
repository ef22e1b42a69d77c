// The published package works on a host without a compiler: `npm pack` from a clean copy of the tree
// (prepack builds dist/ and the prebuild), the tarball installed with --ignore-scripts into an empty
// project, its dependencies fetched from the registry as a user's install would (nothing assumed in
// this machine's npm cache), and there the prebuilt addon is what loads, through require, import, the
// subpath, the CLI and the types. A setup that fails fails every test with its reason.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packCleanCopy, root, setupOrFail } from './packed.js';
import { binding } from '../../lib/binding.js';
import { netnsIt } from '../helpers/netns.js';

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
const libc = existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
const prebuild = `prebuilds/${process.platform}-${process.arch}/safebind.${libc}.node`;

let work = '';
let app = '';
let tarball = '';
let entries: string[] = [];

/** The environment of a user's shell: no addon override from the test run. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.SAFEBIND_ADDON;
  delete env.NODE_OPTIONS;
  return env;
}

function inApp(file: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(file, args, { cwd: app, env: userEnv(), encoding: 'utf8', timeout: 120_000 });
}

/** tsc over `files` in the app, strict and with skipLibCheck off, as a careful user runs it. */
function typecheck(moduleArgs: string[], files: string[]): SpawnSyncReturns<string> {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const common = ['--noEmit', '--strict', '--types', 'node', '--skipLibCheck', 'false'];
  return inApp(process.execPath, [tsc, ...common, ...moduleArgs, ...files]);
}

function node(script: string, type: 'commonjs' | 'module' = 'commonjs'): string {
  const run = inApp(process.execPath, ['--input-type=' + type, '-e', script]);
  if (run.status !== 0) throw new Error(`node exited ${run.status}: ${run.stderr}`);
  return run.stdout.trim();
}

setupOrFail(packAndInstall, 600_000);

function packAndInstall(): void {
  work = mkdtempSync(join(tmpdir(), 'safebind-pack-'));
  // prepack runs `npm run build:ts && npm run prebuild` in the copy, as a release would.
  ({ tarball, entries } = packCleanCopy(work, userEnv()));

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  // Dependencies come from the registry (or a warm cache), as in a user's project.
  const peers = [
    `prom-client@${manifest.devDependencies['prom-client']}`,
    `@types/node@${manifest.devDependencies['@types/node']}`,
  ];
  const install = spawnSync(
    'npm',
    ['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball, ...peers],
    { cwd: app, env: userEnv(), encoding: 'utf8', timeout: 300_000 },
  );
  if (install.status !== 0) {
    throw new Error(
      `npm install of the tarball exited ${install.status}: ${install.stderr || install.error}`,
    );
  }
}

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds dist, the prebuild for this platform and the native sources for a compile fallback', () => {
    for (const file of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      'dist/prometheus.js',
      'dist/prometheus.cjs',
      'dist/prometheus.d.ts',
      'dist/prometheus.d.cts',
      'dist/agent.js',
      'dist/agent.cjs',
      'dist/agent.d.ts',
      'dist/agent.d.cts',
      'dist/bench/capacity-entry.js',
      'dist/register.js',
      'dist/register.cjs',
      'dist/cli/main.js',
      prebuild,
      'binding.gyp',
      'CMakeLists.txt',
      'native/binding.cc',
      'native/sys.h',
    ]) {
      expect(entries, file).toContain(file);
    }
  });

  it('leaves out tests, TypeScript sources, benchmarks and the build folder', () => {
    const unwanted = entries.filter((e) =>
      /^(test|test-d|lib|bench|build|build-cmake|scripts|docs|\.ci)\//.test(e),
    );
    expect(unwanted).toEqual([]);
  });
});

describe('installed with --ignore-scripts into an empty project', () => {
  it('has no build folder, so only the prebuild can serve the addon', () => {
    expect(existsSync(join(app, 'node_modules', 'safebind', 'build'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'safebind', prebuild))).toBe(true);
  });

  it('node-gyp-build picks the prebuild, and it loads and answers with the kernel constants', () => {
    const out = node(`
      const dir = require('node:path').dirname(require.resolve('safebind/package.json'));
      const path = require('node-gyp-build').path(dir);
      console.log(JSON.stringify({ path, AF_INET: require(path).constants.AF_INET }));`);
    const loaded = JSON.parse(out) as { path: string; AF_INET: number };
    expect(loaded.path.endsWith(prebuild)).toBe(true);
    expect(loaded.AF_INET).toBe(binding().constants.AF_INET);
  });

  it('require and import of safebind give the same exports, and the package.json subpath resolves', () => {
    const required = node(`console.log(JSON.stringify(Object.keys(require('safebind')).sort()))`);
    const imported = node(
      `const m = await import('safebind'); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()))`,
      'module',
    );
    expect(JSON.parse(imported)).toEqual(JSON.parse(required));
    expect(node(`console.log(require('safebind/package.json').version)`)).toBe(manifest.version);
  });

  it('safebind/agent loads through require and import without undici installed; createDispatcher says it needs it', () => {
    // The app installs no undici: the optional peer is really absent here.
    expect(existsSync(join(app, 'node_modules', 'undici'))).toBe(false);
    const check = `
      const agent = A.createAgent({ sources: ['127.0.0.1'], keepAlive: true });
      let message = '';
      try { A.createDispatcher({}); } catch (e) { message = e.message; }
      console.log(JSON.stringify({ keepAlive: agent.keepAlive, message }));`;
    const required = node(`const A = require('safebind/agent');` + check);
    const imported = node(`const A = await import('safebind/agent');` + check, 'module');
    for (const out of [required, imported]) {
      expect(JSON.parse(out)).toEqual({
        keepAlive: true,
        message:
          'createDispatcher() needs undici, an optional peer dependency of safebind: npm install undici',
      });
    }
  });

  it('npx safebind --version prints the package version', () => {
    const run = inApp('npx', ['--no', '--', 'safebind', '--version']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(manifest.version);
  });

  it('TypeScript finds the types of both entry points, for ESM and CommonJS, with no extra package', () => {
    const body = `
      import type { PortUsage, Result } from 'safebind';
      import { registerMetrics, type MetricsOptions } from 'safebind/prometheus';
      import { Registry } from 'prom-client';
      const usage: Result<PortUsage> | undefined = undefined;
      const options: MetricsOptions = { destinations: ['127.0.0.1:5432'] };
      registerMetrics(new Registry(), options);
      // @ts-expect-error destinations are HOST:PORT strings
      registerMetrics(new Registry(), { destinations: [5432] });
      export { usage };
    `;
    writeFileSync(join(app, 'check-esm.mts'), body);
    writeFileSync(join(app, 'check-cjs.cts'), body);
    writeFileSync(join(app, 'check-node10.ts'), body);
    const modern = typecheck(
      ['--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ['check-esm.mts', 'check-cjs.cts'],
    );
    expect(modern.status, modern.stdout + modern.stderr).toBe(0);
    // Older setups ignore `exports`; typesVersions still maps safebind/prometheus to its types.
    const node10 = typecheck(
      ['--module', 'commonjs', '--moduleResolution', 'node10', '--esModuleInterop'],
      ['check-node10.ts'],
    );
    expect(node10.status, node10.stdout + node10.stderr).toBe(0);
  }, 120_000);

  it('TypeScript checks safebind/agent with skipLibCheck off where undici, an optional peer, is not installed', () => {
    expect(existsSync(join(app, 'node_modules', 'undici'))).toBe(false);
    const body = `
      import { createAgent, createDispatcher, type AgentOptions } from 'safebind/agent';
      const options: AgentOptions = { sources: ['127.0.0.1'], keepAlive: true, maxSockets: 8 };
      const agent = createAgent(options);
      agent.destroy();
      // @ts-expect-error sources are address strings
      createAgent({ sources: [1] });
      // Without undici its types are any: the call still type-checks, and throws at run time.
      export const make = () => createDispatcher({ sources: ['127.0.0.1'] });
    `;
    writeFileSync(join(app, 'agent-esm.mts'), body);
    writeFileSync(join(app, 'agent-cjs.cts'), body);
    const run = typecheck(
      ['--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ['agent-esm.mts', 'agent-cjs.cts'],
    );
    expect(run.status, run.stdout + run.stderr).toBe(0);
  }, 120_000);

  // From here on the test process is in a private network namespace (netnsIt moves it), and so are
  // the node and npx processes it starts.
  netnsIt(
    'safebind/prometheus, through require and import, reads the socket table with the prebuilt addon',
    () => {
      // A listener of the child's own: safebind_sockets can only count it if the addon loaded.
      const scrape = `
        const { Registry } = PROM.default ?? PROM;
        const server = require('node:net').createServer().listen(0, '127.0.0.1', async () => {
          const registry = new Registry();
          SB.registerMetrics(registry);
          console.log(await registry.metrics());
          server.close();
        });`;
      const cjs = node(
        `const PROM = require('prom-client'); const SB = require('safebind/prometheus');` + scrape,
      );
      const esm = node(
        `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/');` +
          `const PROM = await import('prom-client'); const SB = await import('safebind/prometheus');` +
          scrape,
        'module',
      );
      for (const text of [cjs, esm]) {
        expect(text).toMatch(/^safebind_sockets\{state="LISTEN"\} 1$/m);
        expect(text).toMatch(/^safebind_port_range_size [1-9]\d*$/m);
        expect(text).toMatch(/^safebind_nonlocal_bind_enabled\{family="ipv4"\} 0$/m);
      }
    },
    60_000,
  );

  netnsIt(
    'node --import safebind/register and node -r safebind/register explain a refused connect from the installed package',
    () => {
      const script = `require('node:net').connect(6393, '127.0.0.1').on('error', () => console.log('handled'));`;
      for (const preload of [
        ['--import', 'safebind/register'],
        ['-r', 'safebind/register'],
      ]) {
        const run = inApp(process.execPath, [...preload, '-e', script]);
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout.trim()).toBe('handled');
        expect(run.stderr).toMatch(/^safebind: connection-refused \(ECONNREFUSED\) 127\.0\.0\.1:6393: /);
      }
    },
    60_000,
  );

  netnsIt(
    'npx safebind doctor --json prints one host report that the prebuilt addon read',
    () => {
      const run = inApp('npx', ['--no', '--', 'safebind', 'doctor', '--json']);
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { addresses: Array<{ interface: string; address: string }> };
      // A fresh namespace has exactly loopback: proof the addon answered, not a canned report.
      expect(report.addresses).toContainEqual(
        expect.objectContaining({ interface: 'lo', address: '127.0.0.1' }),
      );
    },
    120_000,
  );
});
