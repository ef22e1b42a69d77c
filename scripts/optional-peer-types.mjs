// After tsup: marks each import of an optional peer dependency (undici, prom-client) in dist/'s
// declaration files with `// @ts-ignore`, so a TypeScript user who has not installed that peer can
// still type-check with skipLibCheck off. Without the peer its types are `any`; with it installed
// the import resolves and the comment changes nothing. safebind/agent's createAgent needs no undici,
// yet its declaration file names undici's types for createDispatcher.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const optional = Object.entries(manifest.peerDependenciesMeta ?? {})
  .filter(([, meta]) => meta.optional)
  .map(([name]) => name);
const note = '// @ts-ignore -- an optional peer dependency: without it installed, its types are any';
const escaped = optional.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
const importLine = new RegExp(`^import .* from '(?:${escaped.join('|')})(?:/[^']*)?';$`);

function declarationFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarationFiles(path);
    return /\.d\.c?ts$/.test(entry.name) ? [path] : [];
  });
}

let marked = 0;
for (const file of declarationFiles(join(root, 'dist'))) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out = [];
  for (const [i, line] of lines.entries()) {
    if (importLine.test(line) && lines[i - 1] !== note) {
      out.push(note);
      marked++;
    }
    out.push(line);
  }
  if (out.length !== lines.length) writeFileSync(file, out.join('\n'));
}
process.stdout.write(`optional-peer-types: ${marked} import(s) of ${optional.join(', ')} marked\n`);
