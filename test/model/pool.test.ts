// Pool arithmetic: the range less the reserved ports inside it, whatever part of a reserved range
// falls outside; and how full a pool is.
import { describe, expect, it } from 'vitest';
import {
  formatRanges,
  parsePortRange,
  parsePortRanges,
  poolOf,
  reservedWithin,
  usageRatio,
} from '../../lib/model/index.js';

describe('poolOf', () => {
  it('is the whole range when nothing is reserved', () => {
    expect(poolOf([32768, 60999])).toMatchObject({ rangeSize: 28232, reserved: 0, poolSize: 28232 });
  });

  it('takes out reserved ports inside the range', () => {
    expect(
      poolOf(
        [32768, 60999],
        [
          [40000, 40009],
          [50000, 50000],
        ],
      ),
    ).toMatchObject({
      rangeSize: 28232,
      reserved: 11,
      poolSize: 28221,
    });
  });

  it('ignores reserved ports outside the range, and counts only the inside part of a straddling range', () => {
    const pool = poolOf(
      [32768, 60999],
      [
        [8080, 8080],
        [30000, 32777],
        [60990, 65000],
      ],
    );
    expect(pool.reserved).toBe(10 + 10);
    expect(pool.poolSize).toBe(28232 - 20);
  });

  it('is empty, not negative, when everything or more is reserved, or the range is inverted', () => {
    expect(poolOf([1000, 1009], [[900, 2000]]).poolSize).toBe(0);
    expect(poolOf([2000, 1000]).poolSize).toBe(0);
    expect(
      reservedWithin(
        [1000, 1009],
        [
          [1000, 1004],
          [1003, 1009],
        ],
      ),
    ).toBe(12);
  });
});

describe('port range text', () => {
  it('reads the sysctls as the kernel prints them and writes reserved ranges back', () => {
    expect(parsePortRange('32768\t60999')).toEqual([32768, 60999]);
    expect(parsePortRange('nonsense')).toBeUndefined();
    expect(parsePortRanges('8080,9000-9010, 9100')).toEqual([
      [8080, 8080],
      [9000, 9010],
      [9100, 9100],
    ]);
    expect(parsePortRanges('')).toEqual([]);
    expect(
      formatRanges([
        [8080, 8080],
        [9000, 9010],
      ]),
    ).toBe('8080,9000-9010');
  });
});

describe('usageRatio', () => {
  it('is in use over the pool, and a pool of no ports is full', () => {
    expect(usageRatio(9, 10)).toBe(0.9);
    expect(usageRatio(0, 0)).toBe(1);
  });
});
