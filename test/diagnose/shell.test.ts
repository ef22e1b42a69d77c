// shellQuote makes any value one literal shell word; printable makes any text safe for a terminal.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printable, printableDeep, shellQuote } from '../../lib/diagnose/shell.js';

describe('shellQuote', () => {
  it.each([
    ['eth0', 'eth0'],
    ['10.0.0.50/24', '10.0.0.50/24'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['net.ipv4.tcp_tw_reuse=1', 'net.ipv4.tcp_tw_reuse=1'],
    ['a$(id)', `'a$(id)'`],
    ["it's", `'it'\\''s'`],
    ['', `''`],
    ['a b', `'a b'`],
  ])('quotes %j as %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });

  it('every quoted value pastes back as exactly that one word, running nothing', () => {
    const values = [
      'a$(id)',
      '`id`',
      "x'; id; echo '",
      'a"b\\c',
      '$HOME',
      '*',
      '~root',
      'a;b|c&d',
      '-n',
      "'",
    ];
    for (const value of values) {
      const out = execFileSync('sh', ['-c', `printf '%s\\n' ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(out).toBe(`${value}\n`);
    }
  });

  it("quotes safebind's own placeholders too: pasted, they reach the command as text, never as redirections", () => {
    expect(shellQuote('<interface>')).toBe(`'<interface>'`);
    expect(shellQuote('<gateway>')).toBe(`'<gateway>'`);
    // Bare, `ip route add … via <gateway> dev v0` would have truncated ./dev where ./gateway exists.
    const dir = mkdtempSync(join(tmpdir(), 'safebind-paste-'));
    writeFileSync(join(dir, 'gateway'), '');
    writeFileSync(join(dir, 'dev'), 'kept');
    const out = execFileSync('sh', ['-c', `printf '%s ' via ${shellQuote('<gateway>')} dev v0`], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(out).toBe('via <gateway> dev v0 ');
    expect(readFileSync(join(dir, 'dev'), 'utf8')).toBe('kept');
    rmSync(dir, { recursive: true });
  });
});

describe('printable', () => {
  it('writes C0, DEL and C1 controls as visible escapes and leaves other text alone', () => {
    expect(printable('e\u001b[31mx\u0007\u0000\u007f\u009b é ✔')).toBe(
      'e\\x1b[31mx\\x07\\x00\\x7f\\x9b é ✔',
    );
    expect(printableDeep({ a: ['\u001b'], b: 1, c: { d: '\n' } })).toEqual({
      a: ['\\x1b'],
      b: 1,
      c: { d: '\\x0a' },
    });
  });
});
