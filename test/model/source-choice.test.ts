// The choice of source: fewest connections first, equal counts in turn, a pool found full skipped
// until one of its connections closes, and port-range slices that never overlap.
import { describe, expect, it } from 'vitest';
import { portRangeSlice, SourceBook } from '../../lib/model/index.js';

const D = '10.0.0.7:80';

describe('SourceBook', () => {
  it('picks the least-used source, counting connects under way, ties in turn', () => {
    const book = new SourceBook(['a', 'b', 'c']);
    const picks = Array.from({ length: 6 }, () => book.pick(D, new Set()));
    expect(picks).toEqual([0, 1, 2, 0, 1, 2]);
    book.opened(0, D);
    book.failed(1, D, false);
    // a: 1 live + 1 pending, b: 1 pending, c: 2 pending → b.
    expect(book.pick(D, new Set())).toBe(1);
  });

  it('skips a source found full until one of its connections closes', () => {
    const book = new SourceBook(['a', 'b']);
    for (let i = 0; i < 2; i++) book.opened(book.pick(D, new Set()) ?? -1, D);
    const first = book.pick(D, new Set());
    expect(first).toBe(0);
    book.failed(0, D, true);
    // a is full at 1 live: b is chosen even with more connections.
    for (let i = 0; i < 3; i++) {
      const i2 = book.pick(D, new Set());
      expect(i2).toBe(1);
      book.opened(1, D);
    }
    // Only a is left untried: it is still offered, last.
    expect(book.pick(D, new Set([1]))).toBe(0);
    book.failed(0, D, true);
    book.closed(0, D);
    expect(book.tally(D)[0]).toEqual({ source: 'a', live: 0 });
    expect(book.pick(D, new Set())).toBe(0);
  });

  it('counts each destination apart and forgets a destination with nothing left', () => {
    const book = new SourceBook(['a', 'b']);
    book.opened(book.pick('x:1', new Set()) ?? -1, 'x:1');
    expect(book.pick('y:1', new Set())).toBe(0);
    book.failed(0, 'y:1', false);
    expect(book.tally('y:1')).toEqual([
      { source: 'a', live: 0 },
      { source: 'b', live: 0 },
    ]);
    expect(book.tally('x:1')[0]?.live).toBe(1);
    expect(book.pick(D, new Set([0, 1]))).toBeUndefined();
  });
});

describe('portRangeSlice', () => {
  it('cuts the range into disjoint slices, the last taking the remainder', () => {
    expect(portRangeSlice([32768, 60999], 0, 4)).toEqual([32768, 39825]);
    expect(portRangeSlice([32768, 60999], 3, 4)).toEqual([53942, 60999]);
    const slices = [0, 1, 2].map((i) => portRangeSlice([1000, 1009], i, 3));
    expect(slices).toEqual([
      [1000, 1002],
      [1003, 1005],
      [1006, 1009],
    ]);
    expect(portRangeSlice([1000, 1001], 0, 3)).toBeUndefined();
    expect(portRangeSlice([1000, 1009], 3, 3)).toBeUndefined();
  });
});
