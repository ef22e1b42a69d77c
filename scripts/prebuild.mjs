// `npm run prebuild` (and so `npm pack`): builds the N-API addon for linux-x64 and linux-arm64 into
// prebuilds/<platform>-<arch>/safebind.glibc.node with prebuildify, portable to every glibc Linux that
// Node 20 runs on, and refuses to finish if either file needs more than scripts/elf-bounds.mjs allows
// (glibc 2.28, no shared libstdc++).
//
// How (scripts/toolchain.mjs pins the parts): Debian's GCC 12 compiles, for arm64 its cross compiler;
// the link goes against the glibc 2.17 sysroot of the napi-rs cross toolchain, with libstdc++ linked
// statically and scripts/glibc-compat.c supplying the three glibc names that static libstdc++ needs
// and glibc 2.17 lacks. Local builds (`npm install`, node-gyp rebuild) are untouched by all this.
//
// It builds in a staging copy of the sources because prebuildify runs `node-gyp rebuild` in its working
// folder, and the working tree's build/ is shared by everyone's incremental builds.
//
//   node scripts/prebuild.mjs [--arch x64,arm64] [--out DIR]   (default: both, into the repository)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { boundsProblems, inspectElf } from './elf-bounds.mjs';
import { SYSROOT_GLIBC, toolchain } from './toolchain.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const { values } = parseArgs({
  options: { arch: { type: 'string', default: 'x64,arm64' }, out: { type: 'string', default: root } },
});
const arches = values.arch.split(',').filter(Boolean);
const out = resolve(values.out);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  throw new Error('prebuild: the prebuilds are built on linux-x64 (the toolchain is x64-hosted)');
}

/** The environment of one prebuildify run: the compilers, and the link against the old sysroot. */
function buildEnv(t, compat) {
  const env = { ...process.env };
  // Options of an enclosing `npm pack --dry-run` or of a consumer's install are not ours.
  for (const key of Object.keys(env)) {
    if (/^npm_config_(arch|target_arch|dry_run)$/i.test(key)) delete env[key];
  }
  // The running Node's own headers (N-API needs nothing else), so node-gyp downloads nothing: npm's
  // `nodedir` config when set, else the include/node folder next to this node binary.
  const prefix = dirname(dirname(process.execPath));
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    env.npm_config_nodedir = prefix;
  }
  const ldflags = [
    `--sysroot=${t.sysroot}`,
    `-B${t.sysroot}/usr/lib64`, // crti.o / crtn.o of the sysroot's glibc
    `-L${t.gccLibDir}`, // GCC 12's static libstdc++ before anything of the sysroot
    `-L${t.sysroot}/usr/lib64`,
    '-static-libstdc++',
    '-Wl,--exclude-libs,ALL', // nothing of libstdc++ exported from the addon
    '-Wl,--no-as-needed',
    '-lpthread', // glibc 2.17 keeps pthread_create in libpthread.so.0
    compat,
  ];
  return {
    ...env,
    CC: t.cc,
    CXX: t.cxx,
    LINK: t.cxx,
    LDFLAGS: ldflags.join(' '),
    PREBUILD_STRIP_BIN: t.strip,
  };
}

function build(arch) {
  const t = toolchain(arch);
  const stage = mkdtempSync(join(tmpdir(), `safebind-prebuild-${arch}-`));
  try {
    for (const entry of ['native', 'binding.gyp', 'package.json']) {
      cpSync(join(root, entry), join(stage, entry), { recursive: true });
    }
    // binding.gyp asks node for node-addon-api's include folder from the staging folder.
    symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
    const compat = join(stage, 'glibc-compat.o');
    execFileSync(
      t.cc,
      ['-fPIC', '-O2', '-Wall', '-c', join(root, 'scripts', 'glibc-compat.c'), '-o', compat],
      {
        stdio: 'inherit',
      },
    );
    // N-API is ABI-stable: building against the running Node's headers (node >= 20, as engines says)
    // serves every later Node, and avoids prebuildify's default of downloading the newest headers.
    // --tag-libc names the file safebind.glibc.node, so node-gyp-build on musl never picks it.
    const args = ['--napi', '--strip', '--tag-libc', '--target', `node@${process.versions.node}`];
    args.push('--arch', arch, '--cwd', stage, '--out', out);
    const run = spawnSync(process.execPath, [require.resolve('prebuildify/bin.js'), ...args], {
      stdio: 'inherit',
      env: buildEnv(t, compat),
    });
    if (run.status !== 0) throw new Error(`prebuild: prebuildify for ${arch} exited ${run.status}`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const file = join(out, 'prebuilds', `linux-${arch}`, 'safebind.glibc.node');
  if (!existsSync(file)) throw new Error(`prebuild: ${file} was not written`);
  const problems = boundsProblems(file, arch);
  if (problems.length > 0) {
    rmSync(file);
    throw new Error(`prebuild: out of bounds, removed:\n  ${problems.join('\n  ')}`);
  }
  const { highest } = inspectElf(file);
  const needs = Object.entries(highest).map(([name, v]) => `${name}_${v}`);
  process.stderr.write(`prebuild: ${file}: needs ${needs.join(', ')} (sysroot glibc ${SYSROOT_GLIBC})\n`);
}

for (const arch of arches) build(arch);
