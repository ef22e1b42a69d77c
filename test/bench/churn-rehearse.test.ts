// `--rehearse --pool N` runs to exhaustion inside a namespace of its own: the pool is exactly N
// ports (nothing — no listener port, no backlog — hides or shifts it), and the failure is diagnosed
// there, with the namespace's figures.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChurnReport } from '../../lib/bench/index.js';
import { ensureBuilt, safebind } from './cli.js';

beforeAll(ensureBuilt, 120_000);

describe('bench churn --rehearse', () => {
  for (const mode of ['native', 'node']) {
    it(`${mode}: --pool 50 runs out at exactly connect 51 and explains ephemeral-ports-exhausted`, () => {
      const r = safebind(['bench', 'churn', '--rehearse', '--pool', '50', '--mode', mode, '--json']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout) as ChurnReport;
      expect(report.connects).toBe(50);
      expect(report.rehearsal?.exhaustedAt).toBe(51);
      expect(report.firstFailure?.attempt).toBe(51);
      expect(report.firstFailure?.code).toBe('EADDRNOTAVAIL');
      const d = report.firstFailure?.diagnosis;
      expect(d?.cause).toBe('ephemeral-ports-exhausted');
      expect(d?.evidence.poolSize).toBe(50);
      // The pool was full at the failure; a few TIME_WAIT sockets may be reset on loopback right after
      // (see bench/README.md), so the count read for the diagnosis can be a little lower.
      expect((d?.evidence.portUsage as { inUse: number }).inUse).toBeGreaterThanOrEqual(45);
      expect(report.listener?.accepted).toBe(50);
    });
  }

  it('two sources with --bind-no-port double the rehearsed pool', () => {
    const r = safebind([
      'bench',
      'churn',
      '--rehearse',
      '--pool',
      '50',
      '--source',
      '127.0.0.1',
      '--source',
      '127.0.0.2',
      '--bind-no-port',
      '--json',
    ]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as ChurnReport;
    expect(report.connects).toBe(100);
    expect(report.rehearsal?.exhaustedAt).toBe(101);
    expect(report.firstFailure?.message).toBe(`connect EADDRNOTAVAIL ${report.target}`);
    expect(report.firstFailure?.diagnosis?.cause).toBe('ephemeral-ports-exhausted');
  });

  it('two sources without --bind-no-port run out at bind(source, 0): bind-ports-exhausted', () => {
    const r = safebind([
      'bench',
      'churn',
      '--rehearse',
      '--pool',
      '50',
      '--source',
      '127.0.0.1',
      '--source',
      '127.0.0.2',
      '--json',
    ]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as ChurnReport;
    // bind(source, 0) takes a port of the range per source address, for every destination at once.
    expect(report.connects).toBe(100);
    expect(report.firstFailure).toMatchObject({
      attempt: 101,
      syscall: 'bind',
      code: 'EADDRINUSE',
      local: '127.0.0.1:0',
    });
    expect(report.rehearsal?.exhaustedAt).toBe(101);
    expect(report.firstFailure?.diagnosis?.cause).toBe('bind-ports-exhausted');
  });

  it('a per-socket --local-port-range of 10 ports inside the rehearsal runs out at connect 11', () => {
    // Inside the namespace's 32768-33767: the kernel ignores the bounds of a per-socket range that fall outside it.
    const r = safebind(['bench', 'churn', '--rehearse', '--local-port-range', '32800-32809', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as ChurnReport;
    expect(report.connects).toBe(10);
    expect(report.rehearsal?.exhaustedAt).toBe(11);
    expect(report.samples.at(-1)?.poolSize).toBe(10);
  });

  it('prints the diagnosis for a person without --json', () => {
    const r = safebind(['bench', 'churn', '--rehearse', '--pool', '50']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('the pool ran out at connect 51: 50 succeeded');
    expect(r.stdout).toContain('ephemeral-ports-exhausted');
  });
});
