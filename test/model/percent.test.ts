// The one percent rule: "100%" only for a full pool, "0%" only for an empty one, rounding between.
import { describe, expect, it } from 'vitest';
import { formatPercent } from '../../lib/model/index.js';

describe('formatPercent', () => {
  it.each([
    [0, '0%'],
    [0.004, '<1%'],
    [0.005, '1%'],
    [0.5, '50%'],
    [0.955, '96%'],
    [0.9, '90%'],
    [0.996, '>99%'],
    [1, '100%'],
  ])('prints %s as %s', (ratio, text) => {
    expect(formatPercent(ratio)).toBe(text);
  });

  it('never prints 100% for a pool with one port left of 28,232', () => {
    expect(formatPercent(28231 / 28232)).toBe('>99%');
    expect(formatPercent(28232 / 28232)).toBe('100%');
  });

  it('never prints 0% for a pool with one port of 28,232 in use', () => {
    expect(formatPercent(1 / 28232)).toBe('<1%');
  });

  it('with one decimal: 0.5% stays 0.5%, 99.96% is >99.9%, a trace is <0.1%', () => {
    expect(formatPercent(0.005, 1)).toBe('0.5%');
    expect(formatPercent(0.0312, 1)).toBe('3.1%');
    expect(formatPercent(0.9996, 1)).toBe('>99.9%');
    expect(formatPercent(0.0004, 1)).toBe('<0.1%');
    expect(formatPercent(0, 1)).toBe('0.0%');
  });

  it('reads something of nothing (a pool of no ports) as full', () => {
    expect(formatPercent(Infinity)).toBe('100%');
    expect(formatPercent(NaN)).toBe('100%');
  });
});
