// The prebuilds that ship (issue 18): `npm pack` from a clean copy of the tree, as a release does
// (prepack builds dist/ and both prebuilds with scripts/prebuild.mjs), then
// - each prebuild in the tarball is read back from its symbol tables: the right architecture, nothing
//   newer than glibc 2.28, no shared libstdc++ (or none newer than GCC 8's GLIBCXX_3.4.25);
// - the tarball stays under 1 MB;
// - a consumer installs it, install scripts and all, with no compiler, make or Python on PATH, and the
//   x64 prebuild is what loads: through require, node-gyp-build and `npx safebind doctor --json`.
// The arm64 prebuild runs its part of the suite under qemu-user: `npm run test:arm64` (.ci/arm64.sh).
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packCleanCopy, root, setupOrFail } from './packed.js';
import { boundsProblems, compareVersions, inspectElf } from '../../scripts/elf-bounds.mjs';
import { buildProbe, SYSROOT_GLIBC, toolchain } from '../../scripts/toolchain.mjs';

const PREBUILDS = {
  x64: 'prebuilds/linux-x64/safebind.glibc.node',
  arm64: 'prebuilds/linux-arm64/safebind.glibc.node',
} as const;

let work = '';
let tarball = '';
let unpacked = '';
let entries: string[] = [];

/** A user's shell: none of the test run's npm or addon variables. */
function cleanEnv(path = process.env.PATH ?? ''): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|SAFEBIND_|NODE_OPTIONS$|VITEST|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = path;
  return env;
}

setupOrFail(() => {
  work = mkdtempSync(join(tmpdir(), 'safebind-prebuilds-'));
  // prepack runs `npm run build:ts && npm run prebuild` in the copy: both architectures.
  ({ tarball, entries } = packCleanCopy(work, cleanEnv()));
  unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds exactly the linux-x64 and linux-arm64 glibc prebuilds', () => {
    const prebuilds = entries.filter((e) => e.startsWith('prebuilds/')).sort();
    expect(prebuilds).toEqual([PREBUILDS.arm64, PREBUILDS.x64]);
  });

  it('stays under 1 MB', () => {
    const { size } = statSync(tarball);
    expect(size, `${size} bytes`).toBeLessThan(1_000_000);
  });
});

describe.each(Object.entries(PREBUILDS))(
  'the %s prebuild, from its ELF header and symbol tables',
  (arch, rel) => {
    const file = (): string => join(unpacked, rel);

    it(`is a 64-bit ${arch} shared object`, () => {
      const info = inspectElf(file());
      expect(info).toMatchObject({ elf: true, bits: 64, arch });
    });

    it('needs nothing newer than GLIBC_2.28', () => {
      const { highest, versions } = inspectElf(file());
      expect(versions.GLIBC?.length, 'it uses glibc, so it names GLIBC_ versions').toBeGreaterThan(0);
      expect(
        compareVersions(highest.GLIBC ?? '', '2.28'),
        `highest is GLIBC_${highest.GLIBC}`,
      ).toBeLessThanOrEqual(0);
    });

    it('links no shared libstdc++: no GLIBCXX_ or CXXABI_ versions, no libstdc++.so.6', () => {
      const { highest, needed } = inspectElf(file());
      expect(highest.GLIBCXX).toBeUndefined();
      expect(highest.CXXABI).toBeUndefined();
      expect(needed).not.toContain('libstdc++.so.6');
    });

    it('leaves no symbol undefined without a version but those Node defines (napi_*, uv_*)', () => {
      expect(inspectElf(file()).unversioned).toEqual([]);
    });

    it('passes the check that scripts/prebuild.mjs applies', () => {
      expect(boundsProblems(file(), arch)).toEqual([]);
    });
  },
);

describe('the bounds check', () => {
  it("fails this machine's own node-gyp build (bookworm: glibc 2.36, shared libstdc++)", () => {
    const local = join(root, 'build', 'Release', 'safebind.node');
    expect(existsSync(local), `${local}: run npm ci first`).toBe(true);
    const problems = boundsProblems(local, process.arch).join('\n');
    expect(problems).toMatch(/links libstdc\+\+\.so\.6/);
  });
});

describe(`the x64 prebuild under glibc ${SYSROOT_GLIBC}'s own dynamic loader`, () => {
  // The loader and libraries of the sysroot the prebuilds were linked against, nothing of this host:
  // dlopen there checks every library and symbol version for real (test/helpers/dlopen-probe.c).
  let probe = '';
  let loader = '';
  let libraryPath = '';

  function load(file: string): SpawnSyncReturns<string> {
    return spawnSync(loader, ['--library-path', libraryPath, probe, file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  }

  beforeAll(() => {
    const { sysroot } = toolchain('x64');
    loader = join(sysroot, 'lib64', 'ld-linux-x86-64.so.2');
    libraryPath = [join(sysroot, 'lib64'), join(sysroot, 'usr', 'lib64')].join(':');
    probe = buildProbe('x64', join(work, 'dlopen-probe'));
  }, 300_000);

  it('loads, and its N-API entry point is there', () => {
    const run = load(join(unpacked, PREBUILDS.x64));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('napi_register_module_v1 found');
  });

  it("refuses this machine's own node-gyp build, which needs a newer glibc", () => {
    const run = load(join(root, 'build', 'Release', 'safebind.node'));
    expect(run.status).not.toBe(0);
  });
});

describe('installed by a consumer with no compiler, make or Python on PATH', () => {
  let app = '';
  let bin = '';

  function inApp(file: string, args: string[]): SpawnSyncReturns<string> {
    return spawnSync(file, args, { cwd: app, env: cleanEnv(bin), encoding: 'utf8', timeout: 300_000 });
  }

  beforeAll(() => {
    // PATH is one folder of links to node, npm and the few tools npm's scripts run.
    bin = join(work, 'bin');
    mkdirSync(bin);
    const nodeBin = dirname(process.execPath);
    const links: Record<string, string> = { node: process.execPath };
    for (const tool of ['npm', 'npx']) {
      const beside = join(nodeBin, tool);
      links[tool] = existsSync(beside) ? beside : execFileSync('which', [tool], { encoding: 'utf8' }).trim();
    }
    for (const tool of ['sh', 'env', 'uname']) {
      links[tool] = execFileSync('which', [tool], { encoding: 'utf8' }).trim();
    }
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(bin, name));
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    );
    const install = inApp(join(bin, 'npm'), [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      tarball,
    ]);
    if (install.status !== 0) {
      throw new Error(`npm install exited ${install.status}:\n${install.stdout}\n${install.stderr}`);
    }
  }, 300_000);

  it('has no compiler, make or Python to fall back on', () => {
    for (const tool of ['cc', 'gcc', 'c++', 'g++', 'clang', 'make', 'python3', 'python']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { env: cleanEnv(bin), encoding: 'utf8' });
      expect(found.stdout, tool).toBe('');
    }
  });

  it('ran the install script, which compiled nothing: no build folder', () => {
    expect(existsSync(join(app, 'node_modules', 'safebind', 'build'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'safebind', PREBUILDS.x64))).toBe(true);
  });

  it('node-gyp-build picks the linux-x64 prebuild, and require loads it', () => {
    const run = inApp(join(bin, 'node'), [
      '-e',
      `const dir = require('node:path').dirname(require.resolve('safebind/package.json'));
       const path = require('node-gyp-build').path(dir);
       console.log(JSON.stringify({ path, AF_INET: require(path).constants.AF_INET, keys: Object.keys(require('safebind')).length }));`,
    ]);
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(run.stdout) as { path: string; AF_INET: number; keys: number };
    expect(loaded.path.endsWith(PREBUILDS.x64)).toBe(true);
    expect(loaded.AF_INET).toBe(2);
    expect(loaded.keys).toBeGreaterThan(0);
  });

  it('npx safebind doctor --json reports the loopback address that the addon read', () => {
    const run = inApp(join(bin, 'npx'), ['--offline', 'safebind', 'doctor', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { addresses: Array<{ interface: string; address: string }> };
    expect(report.addresses).toContainEqual(
      expect.objectContaining({ interface: 'lo', address: '127.0.0.1' }),
    );
  }, 120_000);
});
