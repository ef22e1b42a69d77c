// `npm run prebuild`: builds the N-API addon for this machine into prebuilds/<platform>-<arch>/ with
// prebuildify. It builds in a staging copy of the sources because prebuildify runs `node-gyp rebuild`
// in its working folder, and the working tree's build/ is shared by everyone's incremental builds.
// Cross builds go through prebuildify's environment: PREBUILD_ARCH=arm64 CXX=aarch64-linux-gnu-g++
// PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip npm run prebuild.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const stage = mkdtempSync(join(tmpdir(), 'safebind-prebuild-'));
let status = 1;
try {
  for (const entry of ['native', 'binding.gyp', 'package.json']) {
    cpSync(join(root, entry), join(stage, entry), { recursive: true });
  }
  // binding.gyp asks node for node-addon-api's include folder from the staging folder.
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  // N-API is ABI-stable: building against the running Node's headers (node >= 20, as engines says)
  // serves every later Node, and avoids prebuildify's default of downloading the newest headers.
  // --tag-libc names the file safebind.glibc.node, so node-gyp-build on musl never picks it.
  const args = ['--napi', '--strip', '--tag-libc', '--target', `node@${process.versions.node}`];
  args.push('--cwd', stage, '--out', root, ...process.argv.slice(2));
  const run = spawnSync(process.execPath, [require.resolve('prebuildify/bin.js'), ...args], {
    stdio: 'inherit',
  });
  status = run.status ?? 1;
} finally {
  rmSync(stage, { recursive: true, force: true });
}
process.exitCode = status;
