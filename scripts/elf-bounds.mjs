// What a prebuilt addon asks of the host that loads it, read from its ELF headers and dynamic symbol
// table with binutils' objdump: the architecture, the libraries it names, the highest symbol version
// it needs of each (GLIBC_, GLIBCXX_, CXXABI_, GCC_), and undefined symbols that carry no version.
// scripts/prebuild.mjs refuses a prebuild out of bounds; test/package/prebuilds.test.ts proves it.
import { execFileSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

/** The bounds of issue 18: loads where Node 20's own binaries load (glibc 2.28, GCC 8's libstdc++). */
export const BOUNDS = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11', GCC: '7.0.0' };

/** Libraries every glibc system has, the only ones a prebuild may name. */
export const BASE_LIBRARIES = [
  'libc.so.6',
  'libm.so.6',
  'libpthread.so.0',
  'libdl.so.2',
  'libgcc_s.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
];

const MACHINES = { 62: 'x64', 183: 'arm64', 3: 'ia32', 40: 'arm' };

/** Compares dotted versions numerically: '2.9' < '2.17'. */
export function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function elfHeader(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    if (head.toString('latin1', 0, 4) !== '\x7fELF') return { elf: false };
    const little = head[5] === 1;
    const machine = little ? head.readUInt16LE(18) : head.readUInt16BE(18);
    return { elf: true, bits: head[4] === 2 ? 64 : 32, arch: MACHINES[machine] ?? `e_machine ${machine}` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads one .node file: { elf, bits, arch, needed, versions: { GLIBC: ['2.2.5', …], … },
 * highest: { GLIBC: '2.17', GLIBCXX: undefined, … }, unversioned: [names] }.
 * `unversioned` lists undefined, non-weak symbols without a version that Node itself does not define
 * (napi_*, uv_*, node_*): on an older libc such a name fails at load time.
 */
export function inspectElf(file, objdump = 'objdump') {
  const header = elfHeader(file);
  if (!header.elf) return { ...header, needed: [], versions: {}, highest: {}, unversioned: [] };
  const privateHeaders = execFileSync(objdump, ['-p', file], { encoding: 'utf8' });
  const needed = [...privateHeaders.matchAll(/^\s+NEEDED\s+(\S+)$/gm)].map((m) => m[1]);
  const versions = {};
  const refs = privateHeaders.split(/^Version References:$/m)[1] ?? '';
  for (const m of refs.matchAll(/\s0x[0-9a-f]+\s+0x[0-9a-f]+\s+\d+\s+(\S+)$/gm)) {
    // GLIBC_2.17 → GLIBC, 2.17; anything else (GLIBC_PRIVATE) is kept whole and fails the bounds.
    const v = /^([A-Z]+)_([0-9.]+)$/.exec(m[1]);
    (versions[v ? v[1] : m[1]] ??= []).push(v ? v[2] : '0');
  }
  const highest = {};
  for (const [name, list] of Object.entries(versions)) {
    list.sort(compareVersions);
    highest[name] = list[list.length - 1];
  }
  const unversioned = [];
  const symbols = execFileSync(objdump, ['-T', file], { encoding: 'utf8' });
  for (const line of symbols.split('\n')) {
    const m = /^[0-9a-f]+ (.{7}) \*UND\*\s+[0-9a-f]+\s+(\S+)\s+(\S+)$/.exec(line);
    if (!m) continue;
    const [, flags, version, name] = m;
    if (version !== 'Base' || flags[1] === 'w') continue; // weak: may stay unresolved
    if (/^(napi_|uv_|node_)/.test(name)) continue;
    unversioned.push(name);
  }
  return { ...header, needed, versions, highest, unversioned };
}

/** Every way `file` breaks the bounds for a prebuild of `arch`, as sentences; [] when none. */
export function boundsProblems(file, arch, objdump) {
  const info = inspectElf(file, objdump);
  const problems = [];
  if (!info.elf) return [`${file} is not an ELF file`];
  if (info.arch !== arch || info.bits !== 64) {
    problems.push(`${file} is ${info.bits}-bit ${info.arch}, not 64-bit ${arch}`);
  }
  for (const [name, bound] of Object.entries(BOUNDS)) {
    const top = info.highest[name];
    if (top && compareVersions(top, bound) > 0) {
      problems.push(`${file} needs ${name}_${top}, newer than ${name}_${bound}`);
    }
  }
  const unknown = Object.keys(info.versions).filter((name) => !(name in BOUNDS));
  if (unknown.length > 0) problems.push(`${file} needs versions of ${unknown.join(', ')}`);
  const extra = info.needed.filter((lib) => !BASE_LIBRARIES.includes(lib));
  if (extra.length > 0) problems.push(`${file} links ${extra.join(', ')}`);
  if (info.unversioned.length > 0) {
    problems.push(`${file} has undefined symbols without a version: ${info.unversioned.join(', ')}`);
  }
  return problems;
}
