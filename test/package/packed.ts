// Shared by the package tests: `npm pack` of a clean copy of the tree, as a release makes it
// (prepack builds dist/ and both prebuilds), and a setup whose failure fails every test of the file.
import { cpSync, readdirSync, symlinkSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, beforeEach } from 'vitest';

/** The repository root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a clean checkout does not have: build products, installs, local output. */
const notInCheckout = new Set([
  'node_modules',
  'build',
  'build-cmake',
  'dist',
  'prebuilds',
  '.git',
  'coverage',
]);

/**
 * Copies the tree as a clean checkout would have it into `work/src` (node_modules linked), runs
 * `npm pack` there and returns the tarball and its entries (without the `package/` prefix).
 */
export function packCleanCopy(work: string, env: NodeJS.ProcessEnv): { tarball: string; entries: string[] } {
  const src = join(work, 'src');
  cpSync(root, src, {
    recursive: true,
    filter: (from) => {
      const rel = relative(root, from);
      const top = rel.split('/')[0] ?? '';
      return !notInCheckout.has(top) && !rel.endsWith('.tgz') && !rel.startsWith('docs/api');
    },
  });
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
  const pack = spawnSync('npm', ['pack', '--pack-destination', work], { cwd: src, env, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack exited ${pack.status}:\n${pack.stderr}`);
  const found = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  if (found.length !== 1) throw new Error(`npm pack made ${found.length} tarballs: ${found.join(', ')}`);
  const tarball = join(work, found[0] ?? '');
  const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((e) => e.replace(/^package\//, ''));
  return { tarball, entries };
}

/**
 * Runs `setup` once before the file's tests. When it throws, every test fails with its error
 * (vitest would otherwise report the tests as skipped, as if nothing were wrong).
 */
export function setupOrFail(setup: () => void, timeout: number): void {
  let error: unknown;
  beforeAll(() => {
    try {
      setup();
    } catch (e) {
      error = e;
    }
  }, timeout);
  beforeEach(() => {
    if (error !== undefined) throw error;
  });
}
