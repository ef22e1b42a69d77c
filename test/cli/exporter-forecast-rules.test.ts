// The rules of lib/cli/exporter-forecast.ts on readings built by hand (the walk itself is tested in
// test/native/netns-read.test.ts and test/cli/exporter-forecast.test.ts): when there is a sample,
// and how the rate is made from fresh TIME_WAIT timers and the change in open sockets.
import { describe, expect, it } from 'vitest';
import type { NetnsReading } from '../../lib/host/netns.js';
import { exhaustionSeconds, memoryOf } from '../../lib/cli/exporter-forecast.js';
import { forecastPool } from '../../lib/model/forecast.js';
import type { TimeWaitSettings } from '../../lib/model/time-wait.js';

const DEST = '10.0.0.7:5432';

function reading(o: {
  walkMs: number;
  poolSize?: number;
  notTimeWait: number;
  fresh: number;
  buckets?: Record<number, number>;
  timeWait?: TimeWaitSettings;
  loopback?: boolean;
}): NetnsReading {
  const timers = new Uint32Array(60);
  for (const [k, n] of Object.entries(o.buckets ?? {})) timers[Number(k)] = n;
  const tw = timers.reduce((a, n) => a + n, 0);
  return {
    inode: 1,
    nonlocalBind: {},
    unreadable: {},
    sockets: {},
    walkMs: o.walkMs,
    timeWait: o.timeWait ?? { twReuse: 0, timestamps: 1, reuseDelayMs: 1000 },
    pools: {
      destinations: [DEST],
      inUse: [o.notTimeWait + tw],
      usage: [NaN],
      poolSize: o.poolSize ?? 1000,
      loopback: [o.loopback ?? false],
      notTimeWait: [o.notTimeWait],
      freshTimeWait: [o.fresh],
      timers: [timers],
      timersAt: [0],
    },
  };
}

describe('exporter exhaustion forecast rules', () => {
  it('has no sample without a previous reading of the namespace and destination', () => {
    expect(exhaustionSeconds(undefined, reading({ walkMs: 1000, notTimeWait: 5, fresh: 3 })).size).toBe(0);
    const other = memoryOf(reading({ walkMs: 0, notTimeWait: 5, fresh: 0 }))!;
    other.notTimeWait = new Map([['10.0.0.8:5432', 5]]);
    expect(exhaustionSeconds(other, reading({ walkMs: 1000, notTimeWait: 5, fresh: 3 })).size).toBe(0);
  });

  it('counts fresh TIME_WAITs plus the change in open sockets over the time between the walks', () => {
    const before = memoryOf(reading({ walkMs: 0, notTimeWait: 10, fresh: 0 }))!;
    // 10 s: 480 closed into TIME_WAIT since (timers 50–59 s), 20 more open: 50 new connections/s.
    const now = reading({ walkMs: 10_000, notTimeWait: 30, fresh: 480, buckets: { 55: 480 } });
    const expected = forecastPool({
      ratePerSec: 50,
      poolSize: 1000,
      notTimeWait: 30,
      timeWaitBlockingMs: new Array<number>(480).fill(55_500),
      holdMs: 60_000,
    }).exhaustionSeconds!;
    expect(exhaustionSeconds(before, now).get(DEST)).toBeCloseTo(expected, 9);
    // 1000 − 510 held, 50/s, nothing freed before 55.5 s: 9.8 s.
    expect(expected).toBeCloseTo(9.8, 9);
  });

  it('past 60 s between walks takes the TIME_WAIT term over the 60 s it covers', () => {
    const before = memoryOf(reading({ walkMs: 0, notTimeWait: 0, fresh: 0 }))!;
    const now = reading({ walkMs: 120_000, notTimeWait: 0, fresh: 600, buckets: { 30: 600 } });
    const expected = forecastPool({
      ratePerSec: 10,
      poolSize: 1000,
      notTimeWait: 0,
      timeWaitBlockingMs: new Array<number>(600).fill(30_500),
      holdMs: 60_000,
    });
    // 10/s for 60 s holds 600 ports at most: the pool of 1000 never fills.
    expect(expected.exhaustionSeconds).toBeNull();
    expect(exhaustionSeconds(before, now).get(DEST)).toBe(Infinity);
    const small = reading({
      walkMs: 120_000,
      poolSize: 700,
      notTimeWait: 0,
      fresh: 600,
      buckets: { 30: 600 },
    });
    // 600 held, 10/s: full 10 s later, before the first of them is freed at 30.5 s.
    expect(exhaustionSeconds(before, small).get(DEST)).toBeCloseTo(10, 9);
  });

  it('is +Inf with no new connections, 0 when full, and absent when the pool or the hold is unknown', () => {
    const before = memoryOf(reading({ walkMs: 0, notTimeWait: 5, fresh: 0 }))!;
    expect(exhaustionSeconds(before, reading({ walkMs: 15_000, notTimeWait: 5, fresh: 0 })).get(DEST)).toBe(
      Infinity,
    );
    // Fewer open sockets and nothing fresh: a negative count is no rate.
    expect(exhaustionSeconds(before, reading({ walkMs: 15_000, notTimeWait: 2, fresh: 0 })).get(DEST)).toBe(
      Infinity,
    );
    const unknownPool = reading({ walkMs: 15_000, poolSize: NaN, notTimeWait: 5, fresh: 30 });
    expect(exhaustionSeconds(before, unknownPool).has(DEST)).toBe(false);
    const unknownHold = reading({ walkMs: 15_000, notTimeWait: 5, fresh: 30, timeWait: {} });
    expect(exhaustionSeconds(before, unknownHold).has(DEST)).toBe(false);
    const full = reading({ walkMs: 15_000, poolSize: 100, notTimeWait: 100, fresh: 0, timeWait: {} });
    expect(exhaustionSeconds(before, full).get(DEST)).toBe(0);
  });

  it("uses the namespace's reuse hold: tcp_tw_reuse=2 applies to loopback only", () => {
    const settings = { twReuse: 2, timestamps: 1, reuseDelayMs: 1000 as const };
    const before = memoryOf(reading({ walkMs: 0, notTimeWait: 0, fresh: 0 }))!;
    const at = (loopback: boolean) =>
      exhaustionSeconds(
        before,
        reading({
          walkMs: 10_000,
          notTimeWait: 0,
          fresh: 1000,
          buckets: { 55: 1000 },
          timeWait: settings,
          loopback,
        }),
      ).get(DEST);
    // 100/s with a 1 s hold settles near 100 ports: never fills on loopback.
    expect(at(true)).toBe(Infinity);
    // Elsewhere every TIME_WAIT blocks its port for the rest of its 60 s: the 1,000 fill the pool now.
    expect(at(false)).toBe(0);
  });
});
