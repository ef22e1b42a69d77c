// Start-up loads only what the command needs (issue 12, item 6): the modules each run of the built bin
// imports, recorded by a module resolve hook. No timing here: bench/cli-startup.mjs measures the time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, buildBin, root } from './cli.js';

let dir: string;

beforeAll(() => {
  buildBin();
  dir = mkdtempSync(join(tmpdir(), 'safebind-startup-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.SAFEBIND_LOADED_LIST, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
  );
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The URLs of the modules `safebind …args` imports, this package's files relative to dist/cli/. */
function loaded(args: string[], name: string): string[] {
  const list = join(dir, `${name}.txt`);
  writeFileSync(list, '');
  const r = spawnSync(
    process.execPath,
    ['--import', pathToFileURL(join(dir, 'register.mjs')).href, bin, ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', SAFEBIND_LOADED_LIST: list },
      timeout: 60_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  const cli = pathToFileURL(join(root, 'dist', 'cli')).href + '/';
  return [...new Set(readFileSync(list, 'utf8').split('\n').filter(Boolean))]
    .filter((url) => !url.startsWith('node:'))
    .map((url) => (url.startsWith(cli) ? url.slice(cli.length) : url));
}

const fromPackages = (urls: string[]) => urls.filter((u) => u.includes('/node_modules/'));
const chunkOf = (urls: string[], command: string) => urls.some((u) => u.startsWith(`${command}-`));

describe('start-up', () => {
  it('--version loads no command and no package from node_modules', () => {
    const urls = loaded(['--version'], 'version');
    expect(urls).toContain('main.js');
    expect(fromPackages(urls)).toEqual([]);
    for (const command of ['doctor', 'preflight', 'bench', 'exporter'])
      expect(chunkOf(urls, command), command).toBe(false);
  });

  it('doctor --json loads the doctor only: not bench churn (hdr-histogram-js) nor preflight (yocto-spinner)', () => {
    const urls = loaded(['doctor', '--json'], 'doctor');
    expect(chunkOf(urls, 'doctor')).toBe(true);
    expect(chunkOf(urls, 'bench')).toBe(false);
    expect(chunkOf(urls, 'preflight')).toBe(false);
    expect(chunkOf(urls, 'exporter')).toBe(false);
    expect(fromPackages(urls)).toEqual([]);
  });

  it('--help still lists every command from the definitions alone', () => {
    const urls = loaded(['--help'], 'help');
    for (const command of ['doctor', 'preflight', 'bench'])
      expect(chunkOf(urls, command), command).toBe(false);
  });
});
