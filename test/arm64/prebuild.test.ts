// Run only by `npm run test:arm64` (vitest.arm64.config.ts): proves the rest of that run exercised the
// arm64 prebuild on an arm64 Node, not this machine's x64 build.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binding, loadBinding } from '../../lib/binding.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const prebuild = join(root, 'prebuilds', 'linux-arm64', 'safebind.glibc.node');
const require = createRequire(import.meta.url);

describe('the arm64 run', () => {
  it('runs on an arm64 Node', () => {
    expect(process.arch).toBe('arm64');
  });

  it('loads the arm64 prebuild, an aarch64 ELF file, through SAFEBIND_ADDON', () => {
    expect(resolve(process.env.SAFEBIND_ADDON ?? '')).toBe(prebuild);
    expect(readFileSync(prebuild).readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    expect(loadBinding().ok).toBe(true);
    expect(binding().constants.AF_INET6).toBe(10);
  });

  it('is also what node-gyp-build picks for this package on arm64', () => {
    const gypBuild = require('node-gyp-build') as { path(dir: string): string };
    expect(gypBuild.path(root)).toBe(prebuild);
  });

  it('loads under glibc 2.17: its own loader and libraries, nothing of this host', () => {
    // scripts/test-arm64.mjs builds test/helpers/dlopen-probe.c against the glibc 2.17 sysroot; qemu
    // takes that sysroot's ld-linux-aarch64.so.1, libc and libgcc_s through QEMU_LD_PREFIX.
    const probe = process.env.SAFEBIND_OLD_GLIBC_PROBE;
    const sysroot = process.env.SAFEBIND_OLD_GLIBC_SYSROOT;
    expect(probe && sysroot, 'run through npm run test:arm64').toBeTruthy();
    const run = spawnSync(probe ?? '', [prebuild], {
      env: { ...process.env, QEMU_LD_PREFIX: sysroot },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('napi_register_module_v1 found');
  });
});
