// SAFEBIND_ADDON names the addon to load, and only a .node addon is loaded from it: a text file is
// not run as JavaScript, a JSON file is not parsed, a directory is not searched for index.js. Anything
// else is one line on stderr, `safebind: SAFEBIND_ADDON=<path> is not a loadable .node addon: <why>`,
// with no "Require stack" and no doubled prefix.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBin, root, runCli } from './cli.js';

beforeAll(() => buildBin(), 180_000);

const dir = mkdtempSync(join(tmpdir(), 'safebind-addon-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const marker = join(dir, 'executed');

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// `bench churn` cannot go on without the addon: it prints the loader's reason and exits 1.
async function churnWith(addon: string) {
  return runCli(['bench', 'churn', '--count', '1'], { SAFEBIND_ADDON: addon });
}

describe('SAFEBIND_ADDON', () => {
  const payload = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`;
  const cases: Array<[string, () => string, string]> = [
    [
      'a JavaScript text file is not executed',
      () => file('addon.txt', payload),
      'the file name does not end in .node',
    ],
    ['a .js file is not executed', () => file('addon.js', payload), 'the file name does not end in .node'],
    [
      'a JSON file is not parsed',
      () => file('addon.json', '{"addresses": 1}'),
      'the file name does not end in .node',
    ],
    ['a missing file', () => join(dir, 'missing.node'), 'not found'],
    [
      'a directory holding an index.js is not searched',
      () => {
        const d = join(dir, 'pkg.node');
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'index.js'), payload);
        return d;
      },
      'it is a directory',
    ],
    [
      'a .node file that is JavaScript inside',
      () => file('script.node', payload),
      'not an ELF shared object',
    ],
    ['an empty .node file', () => file('empty.node', ''), 'not an ELF shared object'],
  ];

  for (const [name, make, why] of cases) {
    it(`${name}: one line, exit 1`, async () => {
      const path = make();
      const run = await churnWith(path);
      expect(run.stderr).toBe(`safebind: SAFEBIND_ADDON=${path} is not a loadable .node addon: ${why}\n`);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(existsSync(marker), 'the file was run as JavaScript').toBe(false);
    });
  }

  it('an ELF shared library that is not an addon: the loader says why, on one line', async () => {
    // Any shared library this process has mapped (libc, libstdc++…), copied under a .node name.
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const library = /\s(\/\S+\.so(?:\.\d+)*)$/m.exec(maps)?.[1];
    expect(library, 'no shared library mapped in this process').toBeDefined();
    const path = join(dir, 'library.node');
    copyFileSync(library ?? '', path);
    const run = await churnWith(path);
    expect(run.stderr).toMatch(
      new RegExp(
        `^safebind: SAFEBIND_ADDON=${path.replaceAll('.', '\\.')} is not a loadable \\.node addon: \\S.*\\n$`,
      ),
    );
    expect(run.stderr).not.toContain('Require stack');
    expect(run.status).toBe(1);
  });

  it('a relative path is named as given and as resolved', async () => {
    const run = await churnWith('missing.node');
    expect(run.stderr).toBe(
      `safebind: SAFEBIND_ADDON=missing.node (${join(root, 'missing.node')}) is not a loadable .node addon: not found\n`,
    );
  });

  it('doctor goes on without an addon that did not load, and its warnings say why; none for SAFEBIND_ADDON=none', async () => {
    const failed = await runCli(['doctor', '--json'], { SAFEBIND_ADDON: 'missing.node' });
    expect(failed.status).toBe(0);
    const warnings = (JSON.parse(failed.stdout) as { warnings: string[] }).warnings;
    expect(warnings).toContain(
      `the native addon did not load: SAFEBIND_ADDON=missing.node (${join(root, 'missing.node')}) is not a loadable .node addon: not found`,
    );
    const off = await runCli(['doctor', '--json'], { SAFEBIND_ADDON: 'none' });
    const offWarnings = (JSON.parse(off.stdout) as { warnings: string[] }).warnings;
    expect(offWarnings.some((w) => w.startsWith('the native addon did not load'))).toBe(false);
    expect(offWarnings.some((w) => w.startsWith('running without the native addon'))).toBe(true);
  });

  it('the real addon loads from it', async () => {
    const run = await runCli(['doctor', '--json'], {
      SAFEBIND_ADDON: join(root, 'build', 'Release', 'safebind.node'),
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as { addresses: Array<{ interface: string }> };
    expect(report.addresses.map((a) => a.interface)).toContain('lo');
  });
});
