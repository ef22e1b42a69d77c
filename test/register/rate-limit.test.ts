// The rate limit of watchErrors, with literal times: once per (cause, target) per window, the repeats
// counted into the next report, a known failure counted without a diagnosis.
import { describe, expect, it } from 'vitest';
import { DEFAULT_WINDOW_MS, RateLimiter } from '../../lib/api/watch/rate-limit.js';

describe('RateLimiter', () => {
  it('reports the first, counts the rest of the window, and gives the count to the next report', () => {
    const limit = new RateLimiter(1000);
    expect(limit.repeatOf('raw', 0)).toBe(false); // never seen: diagnose it
    expect(limit.admit('raw', 'connection-refused 127.0.0.1:1', 0)).toBe(0);
    expect(limit.repeatOf('raw', 10)).toBe(true);
    expect(limit.repeatOf('raw', 999)).toBe(true);
    expect(limit.repeatOf('raw', 1000)).toBe(false); // the window is over: diagnose again
    expect(limit.admit('raw', 'connection-refused 127.0.0.1:1', 1000)).toBe(2);
    expect(limit.admit('raw', 'connection-refused 127.0.0.1:1', 2500)).toBe(0);
  });

  it('two failures that differ in raw key but share cause and target are one report', () => {
    const limit = new RateLimiter(1000);
    expect(limit.admit('a', 'port-in-use 127.0.0.1:80', 0)).toBe(0);
    expect(limit.admit('b', 'port-in-use 127.0.0.1:80', 5)).toBeUndefined();
    expect(limit.repeatOf('b', 6)).toBe(true);
    expect(limit.admit('a', 'port-in-use 127.0.0.1:80', 1005)).toBe(2);
  });

  it('different targets are reported each on their own', () => {
    const limit = new RateLimiter();
    expect(limit.windowMs).toBe(DEFAULT_WINDOW_MS);
    expect(DEFAULT_WINDOW_MS).toBe(60_000);
    expect(limit.admit('a', 'connection-refused 127.0.0.1:1', 0)).toBe(0);
    expect(limit.admit('b', 'connection-refused 127.0.0.1:2', 0)).toBe(0);
  });

  it('keeps a bounded memory: thousands of one-off targets are pruned once their window ended', () => {
    const limit = new RateLimiter(10);
    for (let i = 0; i < 5000; i++) limit.admit(`raw${i}`, `k${i}`, i * 20);
    // Still correct after pruning: a recent key is inside its window, an old one is new again.
    expect(limit.admit('raw4999', 'k4999', 4999 * 20 + 1)).toBeUndefined();
    expect(limit.repeatOf('raw0', 5000 * 20)).toBe(false);
  });
});
