// The single loader of the .node file and the one typed interface to it. Nothing past this file sees
// the untyped module. On a platform other than Linux, or when no build can be loaded, `loadBinding()`
// reports why instead of throwing, so the package still imports and calls fail as `unsupported-platform`.
import { createRequire } from 'node:module';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NativeBinding } from './binding-types.js';

export type {
  NativeConstants,
  NativeSockAddr,
  NativeNeighbour,
  NativeAddress,
  NativeSocketQuery,
  NativeSocketEntry,
  NativeNetnsGroup,
  NativeNetnsReading,
  NativeRoute,
  NativeAddressWatch,
  NativeChurnOptions,
  NativeChurnResult,
  NativeBinding,
} from './binding-types.js';

export type BindingLoad = { ok: true; binding: NativeBinding } | { ok: false; reason: string };

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'safebind') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('safebind: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

let cached: BindingLoad | undefined;

/**
 * `SAFEBIND_ADDON=none` runs without the addon on purpose: the host readers use /proc, /sys and
 * Node's own sockets (lib/host/fallback), and what only the addon can do fails as
 * `unsupported-platform`. The test suite forces it the same way.
 */
export const NO_ADDON = 'none';

/** True when the addon is turned off by `SAFEBIND_ADDON=none` rather than missing. */
export function addonTurnedOff(): boolean {
  return process.env.SAFEBIND_ADDON === NO_ADDON;
}

/**
 * On musl (Alpine), where no prebuild is shipped: the exact steps that build the addon there. A
 * glibc Node reports the glibc it runs on (process.report's glibcVersionRuntime); musl has none.
 */
function muslAdvice(): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  if (header === undefined || header.glibcVersionRuntime !== undefined) return '';
  return (
    '\nThis Node runs on musl libc (Alpine), for which no prebuild is shipped. Build the addon here with:' +
    '\n  apk add --no-cache python3 make g++ linux-headers && npm rebuild safebind' +
    '\nUntil then safebind runs without it: doctor, preflight, explain, portUsage and inspectHost read /proc and use Node sockets.'
  );
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * Why `path` cannot be an addon, or undefined when it may be one: it exists, is a regular file named
 * `*.node`, and starts with the ELF magic. `require` would otherwise run a text file as JavaScript,
 * parse a `.json` file, or load `index.js` from a directory.
 */
function addonFileProblem(path: string): string | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'not found' : `cannot stat it (${code ?? (e as Error).message})`;
  }
  if (stat.isDirectory()) return 'it is a directory';
  if (!stat.isFile()) return 'not a regular file';
  if (extname(path) !== '.node') return 'the file name does not end in .node';
  const head = Buffer.alloc(ELF_MAGIC.length);
  try {
    const fd = openSync(path, 'r');
    try {
      if (readSync(fd, head, 0, head.length, 0) < head.length || !head.equals(ELF_MAGIC))
        return 'not an ELF shared object';
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  return undefined;
}

/** One line of a load error: dlopen's text without the path it repeats, and no "Require stack". */
function loadErrorLine(path: string, e: unknown): string {
  const line = ((e as Error).message ?? String(e)).split('\n')[0] ?? '';
  return line.startsWith(`${path}: `) ? line.slice(path.length + 2) : line;
}

/** Loads `path` as the addon, or says in one line why it is not one. */
function requireAddon(
  require: NodeJS.Require,
  path: string,
): { ok: true; binding: NativeBinding } | { ok: false; problem: string } {
  const problem = addonFileProblem(path);
  if (problem) return { ok: false, problem };
  let loaded: unknown;
  try {
    loaded = require(path);
  } catch (e) {
    return { ok: false, problem: loadErrorLine(path, e) };
  }
  const b = loaded as Partial<NativeBinding> | null;
  if (typeof b?.socket !== 'function' || typeof b.constants !== 'object')
    return { ok: false, problem: "it is not safebind's addon (no socket export)" };
  return { ok: true, binding: b as NativeBinding };
}

/**
 * Loads the addon once per thread: `SAFEBIND_ADDON` when set (the cmake build is tested that way;
 * it must name a `.node` file, and nothing else is tried then), else build/Release, build/Debug, then
 * a matching prebuild through node-gyp-build. The failure lists every path tried and why each failed.
 * Reasons carry no `safebind:` prefix: whoever prints one adds it.
 */
export function loadBinding(): BindingLoad {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    cached = { ok: false, reason: `safebind supports Linux only; this is ${process.platform}` };
    return cached;
  }
  const require = createRequire(import.meta.url);
  const explicit = process.env.SAFEBIND_ADDON;
  if (explicit === NO_ADDON) {
    cached = { ok: false, reason: `SAFEBIND_ADDON=${NO_ADDON}: the native addon is not loaded` };
    return cached;
  }
  if (explicit) {
    const path = resolve(explicit);
    const load = requireAddon(require, path);
    const named = isAbsolute(explicit) ? explicit : `${explicit} (${path})`;
    cached = load.ok
      ? load
      : { ok: false, reason: `SAFEBIND_ADDON=${named} is not a loadable .node addon: ${load.problem}` };
    return cached;
  }
  const root = packageRoot();
  const tried: string[] = [];
  for (const path of [
    join(root, 'build', 'Release', 'safebind.node'),
    join(root, 'build', 'Debug', 'safebind.node'),
  ]) {
    const load = requireAddon(require, path);
    if (load.ok) {
      cached = load;
      return cached;
    }
    tried.push(`${path}: ${load.problem}`);
  }
  try {
    const gypBuild = require('node-gyp-build') as { path(dir: string): string };
    const path = gypBuild.path(root);
    const load = requireAddon(require, path);
    if (load.ok) {
      cached = load;
      return cached;
    }
    tried.push(`${path}: ${load.problem}`);
  } catch (e) {
    tried.push(`prebuilds in ${join(root, 'prebuilds')}: ${loadErrorLine('', e)}`);
  }
  cached = {
    ok: false,
    reason: `no native build could be loaded; tried:\n  ${tried.join('\n  ')}${muslAdvice()}`,
  };
  return cached;
}

/** The addon, or an Error naming every path tried. For layers that cannot go on without it. */
export function binding(): NativeBinding {
  const load = loadBinding();
  if (!load.ok) throw new Error(`safebind: ${load.reason}`);
  return load.binding;
}
