// undici is an optional peer dependency: safebind/agent loads, and createAgent works, when undici
// cannot be resolved; only createDispatcher needs it, and then says so. The child's resolver is made
// to refuse 'undici' as an absent package does (MODULE_NOT_FOUND), for require and import builds alike.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, root } from '../bench/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

beforeAll(() => ensureBuilt(), 180_000);

const check = `
  const agent = mod.createAgent({ sources: ['127.0.0.1'], keepAlive: true });
  let message = '';
  try { mod.createDispatcher({ sources: ['127.0.0.1'] }); } catch (e) { message = e.message; }
  console.log(JSON.stringify({ agent: agent.constructor.name, keepAlive: agent.keepAlive, message }));
`;

describe('safebind/agent without undici installed', () => {
  it('createAgent works and createDispatcher throws an Error naming the missing peer', () => {
    const dir = tempDir('safebind-no-undici-');
    const block = join(dir, 'block-undici.cjs');
    writeFileSync(
      block,
      `const M = require('node:module'); const orig = M._resolveFilename;
       M._resolveFilename = function (request, ...rest) {
         if (request === 'undici') { const e = new Error("Cannot find module 'undici'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
         return orig.call(this, request, ...rest);
       };`,
    );
    const runs = [
      ['-e', `const mod = require(${JSON.stringify(join(root, 'dist', 'agent.cjs'))});` + check],
      [
        '--input-type=module',
        '-e',
        `const mod = await import(${JSON.stringify(join(root, 'dist', 'agent.js'))});` + check,
      ],
    ];
    for (const args of runs) {
      const r = spawnSync(process.execPath, ['-r', block, ...args], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { agent: string; keepAlive: boolean; message: string };
      expect(out.agent).toBe('SourceAgent');
      expect(out.keepAlive).toBe(true);
      expect(out.message).toBe(
        'createDispatcher() needs undici, an optional peer dependency of safebind: npm install undici',
      );
    }
  });
});
