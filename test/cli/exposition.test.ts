// The text exposition format written by hand (lib/cli/exposition.ts): escaping per format 0.0.4, and
// what promtool itself accepts.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  escapeHelp,
  escapeLabelValue,
  formatExposition,
  formatValue,
  renderLabels,
  sampleHead,
} from '../../lib/cli/exposition.js';
import { unmet } from '../helpers/prerequisite.js';

describe('exposition format', () => {
  it('escapes backslash, double quote and line feed in label values, and only those', () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
    expect(escapeHelp('x\\y\nz "q"')).toBe('x\\\\y\\nz "q"');
  });

  it('writes NaN and infinities as the format spells them', () => {
    expect([NaN, Infinity, -Infinity, 0.5, 3].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '0.5', '3']);
  });

  it('refuses metric and label names the format does not allow', () => {
    expect(() => formatExposition([{ name: '1bad', help: '', type: 'gauge', samples: [] }])).toThrow(
      TypeError,
    );
    expect(() =>
      formatExposition([
        { name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] },
      ]),
    ).toThrow(TypeError);
    expect(() => sampleHead('1bad', '')).toThrow(TypeError);
    expect(() => renderLabels({ __reserved: 'x' })).toThrow(TypeError);
  });

  it('writes rows after the samples, each head as given and its value as the format spells it', () => {
    const text = formatExposition([
      {
        name: 'g',
        help: 'h',
        type: 'gauge',
        samples: [{ labels: { a: '1' }, value: 1 }],
        rows: { heads: [sampleHead('g', 'a="2"'), sampleHead('g', '')], values: [Infinity, 0.25] },
      },
    ]).toString('utf8');
    expect(text).toBe('# HELP g h\n# TYPE g gauge\ng{a="1"} 1\ng{a="2"} +Inf\ng 0.25\n');
  });

  it('spells each row value as formatValue does, on the digit-by-digit path for counts and off it', () => {
    const values = [0, -0, 1, 9, 10, 99, 100, 40, 65535, 1e9, 2 ** 31 - 1, 2 ** 31, 2 ** 53, -1, -40];
    values.push(0.5, 40 / 64512, 40 / 64512, 1e-7, 1e21, NaN, Infinity, -Infinity, Number.MIN_VALUE);
    const heads = values.map((_, i) => sampleHead('g', renderLabels({ i: String(i) })));
    const text = formatExposition([
      { name: 'g', help: 'h', type: 'gauge', samples: [], rows: { heads, values } },
    ]);
    const want = values.map((v, i) => `g{i="${i}"} ${formatValue(v)}\n`).join('');
    expect(text.toString('utf8')).toBe(`# HELP g h\n# TYPE g gauge\n${want}`);
  });

  it('writes UTF-8 label values, and keeps thousands of rows whole', () => {
    const heads = Array.from({ length: 3000 }, (_, i) =>
      sampleHead('g', renderLabels({ pod: `café-${i}`, n: 'ü'.repeat(i % 7) })),
    );
    const values = heads.map((_, i) => i / 7);
    const text = formatExposition([
      { name: 'g', help: 'h', type: 'gauge', samples: [], rows: { heads, values } },
    ]).toString('utf8');
    let want = '# HELP g h\n# TYPE g gauge\n';
    for (let i = 0; i < 3000; i++) want += `g{pod="café-${i}",n="${'ü'.repeat(i % 7)}"} ${String(i / 7)}\n`;
    expect(text).toBe(want);
  });

  it('an exposition with awkward label values passes promtool check metrics', (ctx) => {
    if (spawnSync('sh', ['-c', 'command -v promtool']).status !== 0)
      unmet(ctx, 'promtool is not installed (.ci/run installs prometheus)');
    const text = formatExposition([
      {
        name: 'safebind_port_pool_in_use',
        help: 'TCP source ports in use toward a destination.\nSecond line \\ here.',
        type: 'gauge',
        samples: [
          { labels: { destination: '[fd00::7]:443', container: 'we"ird\\na\nme' }, value: 3 },
          { labels: { destination: '10.0.0.7:5432', container: '' }, value: NaN },
        ],
        rows: {
          heads: [
            sampleHead('safebind_port_pool_in_use', renderLabels({ destination: 'x"y\\z', container: '' })),
          ],
          values: [-Infinity],
        },
      },
    ]).toString('utf8');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });
});
