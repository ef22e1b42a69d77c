// `safebind bench capacity` measures, in a namespace of its own with a pool of 40 ports, how many
// concurrent connections each approach holds: localAddress one pool in total (even toward two
// destinations), safebind/agent one pool per source and per destination.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CapacityReport } from '../../lib/bench/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ensureBuilt, safebind } from './cli.js';

beforeAll(() => ensureBuilt(), 180_000);

describe('safebind bench capacity', () => {
  it('--json: one document; N sources hold N pools, localAddress one pool even toward two destinations', () => {
    const dir = tempDir('safebind-capacity-');
    const chart = join(dir, 'capacity.html');
    const r = safebind(['bench', 'capacity', '--pool', '40', '--json', '--chart', chart]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as CapacityReport;
    expect(report.mode).toBe('capacity');
    expect(report.pool).toBe(40);
    expect(report.range[1] - report.range[0] + 1).toBe(40);
    const held = Object.fromEntries(report.approaches.map((a) => [a.label, a.held]));
    expect(held).toEqual({
      localAddress: 40,
      'agent, 1 source': 40,
      'agent, 2 sources': 80,
      'agent, 4 sources': 160,
      'localAddress, 2 destinations': 40,
      'agent, 1 source, 2 destinations': 80,
    });
    for (const a of report.approaches) {
      expect(a.firstFailure).toBeDefined();
      if (a.approach === 'agent') {
        expect([a.firstFailure?.syscall, a.firstFailure?.code, a.firstFailure?.cause]).toEqual([
          'connect',
          'EADDRNOTAVAIL',
          'ephemeral-ports-exhausted',
        ]);
      }
    }
    const twoDestinations = report.approaches.find((a) => a.label === 'agent, 1 source, 2 destinations');
    expect(Object.values(twoDestinations?.perDestination ?? {})).toEqual([40, 40]);
    const html = readFileSync(chart, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('agent, 4 sources');
  });

  it('bad usage is one safebind: line and exit 2', () => {
    for (const args of [
      ['--pool', 'many'],
      ['--pool', '5000'],
      ['--sources', 'not-an-ip'],
      ['--sources', '127.0.0.2', '--sources', '::1'],
    ]) {
      const r = safebind(['bench', 'capacity', ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^safebind: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // Said before the run, each with its reason (they used to fail midway, or count a source twice).
    for (const [args, says] of [
      [['--sources', '::1'], '--sources ::1: lo already has it'],
      [['--sources', '0.0.0.0'], '--sources 0.0.0.0: the wildcard is no source address'],
      [['--sources', '127.0.0.11', '--sources', '127.0.0.11'], '--sources 127.0.0.11: given twice'],
      [['--chart', '/nonexistent/x.html'], '--chart /nonexistent/x.html: cannot create it in /nonexistent'],
      [['--chart', '/tmp'], '--chart /tmp: is a directory'],
    ] as const) {
      const r = safebind(['bench', 'capacity', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`safebind: ${says}`);
      expect(r.stdout).toBe('');
    }
    const churn = safebind(['bench', 'churn', '--count', '10', '--chart', '/nonexistent/x.html']);
    expect(churn.status).toBe(2);
    expect(churn.stdout).toBe('');
  });
});
