// The pool-fill arithmetic, with literal readings.
import { describe, expect, it } from 'vitest';
import { blockingLeft, forecastPool, timeWaitHold } from '../../lib/model/index.js';

describe('forecastPool', () => {
  it('fills linearly when no TIME_WAIT frees a port before the pool is full', () => {
    const f = forecastPool({
      ratePerSec: 100,
      poolSize: 1000,
      notTimeWait: 0,
      timeWaitBlockingMs: [],
      holdMs: 60_000,
    });
    expect(f.exhaustionSeconds).toBe(10);
    expect(f.steadyState).toBe(6000);
    expect(f.steadyUsage).toBe(6);
    expect(f.blockingNow).toBe(0);
  });

  it('counts the ports today’s TIME_WAIT sockets give back on the way', () => {
    // 500 held, 100 of them freed in the first second: 500 − 100 + 100·t = 1000 → t = 6 s.
    const freed = Array.from({ length: 100 }, (_, i) => 10 + i * 9);
    const held = Array.from({ length: 400 }, () => 59_000);
    const f = forecastPool({
      ratePerSec: 100,
      poolSize: 1000,
      notTimeWait: 0,
      timeWaitBlockingMs: [...freed, ...held],
      holdMs: 60_000,
    });
    expect(f.blockingNow).toBe(500);
    expect(f.exhaustionSeconds).toBeCloseTo(6, 6);
  });

  it('never fills when the steady state fits, and says so with null', () => {
    // 10/s × 60 s = 600 + 100 open = 700 of 1,000.
    const f = forecastPool({
      ratePerSec: 10,
      poolSize: 1000,
      notTimeWait: 100,
      timeWaitBlockingMs: [30_000],
      holdMs: 60_000,
    });
    expect(f.steadyState).toBe(700);
    expect(f.steadyUsage).toBeCloseTo(0.7);
    expect(f.exhaustionSeconds).toBeNull();
  });

  it('rate 0: no time to exhaustion (null), unless the pool is full already (0)', () => {
    expect(
      forecastPool({ ratePerSec: 0, poolSize: 10, notTimeWait: 3, timeWaitBlockingMs: [], holdMs: 60_000 })
        .exhaustionSeconds,
    ).toBeNull();
    expect(
      forecastPool({ ratePerSec: 0, poolSize: 10, notTimeWait: 10, timeWaitBlockingMs: [], holdMs: 60_000 })
        .exhaustionSeconds,
    ).toBe(0);
  });

  it('a pool that was not read gives no time and no usage', () => {
    const f = forecastPool({
      ratePerSec: 50,
      poolSize: NaN,
      notTimeWait: 0,
      timeWaitBlockingMs: [],
      holdMs: 60_000,
    });
    expect(f.exhaustionSeconds).toBeNull();
    expect(f.steadyUsage).toBeNaN();
  });

  it('a steady state exactly the pool fills at the end of the hold', () => {
    const f = forecastPool({
      ratePerSec: 10,
      poolSize: 600,
      notTimeWait: 0,
      timeWaitBlockingMs: [],
      holdMs: 60_000,
    });
    expect(f.exhaustionSeconds).toBe(60);
  });

  it('refuses a negative rate', () => {
    expect(() =>
      forecastPool({ ratePerSec: -1, poolSize: 1, notTimeWait: 0, timeWaitBlockingMs: [], holdMs: 1 }),
    ).toThrow(RangeError);
  });
});

describe('timeWaitHold', () => {
  it('holds a port 60 s without reuse, and for the reuse delay with it', () => {
    expect(timeWaitHold({ twReuse: 0, timestamps: 1, reuseDelayMs: 1000 }, true)).toMatchObject({
      holdMs: 60_000,
      reuse: false,
    });
    expect(timeWaitHold({ twReuse: 2, timestamps: 1, reuseDelayMs: 1000 }, false)).toMatchObject({
      holdMs: 60_000,
      reuse: false,
    });
    expect(timeWaitHold({ twReuse: 2, timestamps: 1, reuseDelayMs: 1000 }, true)).toMatchObject({
      holdMs: 1000,
      reuse: true,
    });
    expect(timeWaitHold({ twReuse: 1, timestamps: 1, reuseDelayMs: 250 }, false)).toMatchObject({
      holdMs: 250,
      reuse: true,
    });
    expect(timeWaitHold({ twReuse: 1, timestamps: 1, reuseDelayMs: 'absent' }, false).holdMs).toBe(1000);
    expect(timeWaitHold({ twReuse: 1, timestamps: 0, reuseDelayMs: 1000 }, false)).toMatchObject({
      holdMs: 60_000,
      reuse: false,
    });
  });

  it('says unknown when a sysctl it needs was not read', () => {
    expect(timeWaitHold({}, false).holdMs).toBeNaN();
    expect(timeWaitHold({ twReuse: 1 }, false).holdMs).toBeNaN();
    expect(timeWaitHold({ twReuse: 1, timestamps: 1 }, false).holdMs).toBeNaN();
  });

  it('a TIME_WAIT under reuse blocks only until it is as old as the delay', () => {
    expect(blockingLeft(59_800, 1000)).toBe(800);
    expect(blockingLeft(30_000, 1000)).toBe(0);
    expect(blockingLeft(30_000, 60_000)).toBe(30_000);
  });
});
