// forecast() against a pool that really fills: in a private namespace with 2,000 source ports and
// tcp_tw_reuse=0, connections are made toward a loopback listener at a steady 160/s (each closed at
// once by the client, so each leaves a TIME_WAIT that holds its port for 60 s). forecast() is called
// early; the seconds it predicts must be within 10 % of the time actually measured until the first
// connect fails with EADDRNOTAVAIL.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { beforeAll, expect } from 'vitest';
import { forecast } from '../../lib/index.js';
import { buildBin, runCli } from '../cli/cli.js';
import { netnsIt } from '../helpers/netns.js';

beforeAll(() => buildBin(), 180_000);

const RANGE = '40000 41999';
const POOL = 2000;
const RATE = 160;
const PORT = 39000; // below the range: a listener inside it would take a port of the pool

/** Connects at `rate` per second on an absolute schedule (a late tick catches up) until a connect fails. */
function drive(rate: number): {
  failed: Promise<{ at: number; code: string }>;
  stop(): void;
  made(): number;
} {
  const start = performance.now();
  let made = 0;
  let stopped = false;
  let onFail!: (v: { at: number; code: string }) => void;
  const failed = new Promise<{ at: number; code: string }>((r) => (onFail = r));
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (!stopped && made < due) {
      made++;
      const s = net.connect({ host: '127.0.0.1', port: PORT });
      s.on('connect', () => s.destroy());
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        onFail({ at: performance.now(), code: e.code ?? String(e) });
      });
    }
  }, 5);
  return {
    failed,
    made: () => made,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

netnsIt(
  'forecast() predicts the measured time to EADDRNOTAVAIL within 10 %',
  async (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', RANGE);
    ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
    const server = net.createServer((s) => s.resume().on('error', () => {}));
    await new Promise<void>((r) => server.listen(PORT, '127.0.0.1', r));
    try {
      // Nothing moves yet: no rate, so no time to exhaustion, and the reason is said.
      const idle = await forecast({ host: '127.0.0.1', port: PORT, sampleMs: 200 });
      expect(idle.exhaustionSeconds).toBeNull();
      expect(idle.unknown).toBe('no-new-connections');

      const run = drive(RATE);
      await new Promise((r) => setTimeout(r, 1500));
      const f = await forecast({ host: '127.0.0.1', port: PORT, sampleMs: 1000 });
      const readAt = performance.now();
      // doctor, run meanwhile, says the same in one line and as a warning.
      const doctor = await runCli(['doctor', '--json']);
      const failure = await run.failed;
      const measured = (failure.at - readAt) / 1000;

      expect(failure.code).toBe('EADDRNOTAVAIL');
      expect(f.usage.poolSize).toBe(POOL);
      expect(f.timeWait.holdMs).toBe(60_000);
      expect(f.timeWait.reuse).toBe(false);
      // A fresh TIME_WAIT timer reads just under TCP_TIMEWAIT_LEN.
      expect(f.timeWait.longestTimerMs).toBeGreaterThan(58_000);
      expect(f.timeWait.longestTimerMs).toBeLessThanOrEqual(60_000);
      expect(f.ratePerSec).toBeGreaterThan(RATE * 0.9);
      expect(f.ratePerSec).toBeLessThan(RATE * 1.1);
      // 160/s × 60 s = 9,600 ports: far more than the pool holds.
      expect(f.steadyUsage).toBeGreaterThan(4);
      expect(f.exhaustionSeconds).not.toBeNull();
      const predicted = f.exhaustionSeconds!;
      console.log(
        `forecast: ${f.ratePerSec.toFixed(1)}/s, ${f.blockingNow} held, fills in ${predicted.toFixed(2)} s; measured ${measured.toFixed(2)} s (${run.made()} connects)`,
      );
      expect(Math.abs(predicted - measured)).toBeLessThanOrEqual(measured * 0.1);

      const report = JSON.parse(doctor.stdout);
      const entry = report.sockets.topDestinations.find(
        (d: { destination: string }) => d.destination === `127.0.0.1:${PORT}`,
      );
      expect(entry.forecast.exhaustionSeconds).toBeGreaterThan(0);
      expect(entry.forecast.exhaustionSeconds).toBeLessThan(predicted);
      expect(report.warnings[0]).toMatch(
        new RegExp(
          `^at 1[4-7]\\d new connections/s toward 127\\.0\\.0\\.1:${PORT} the pool fills in [\\d.]+ s; steady state [45]\\d\\d%`,
        ),
      );
    } finally {
      server.close();
    }
  },
  40_000,
);

netnsIt(
  'with tcp_tw_reuse on loopback a TIME_WAIT port is taken again after the reuse delay: the forecast says the pool does not fill, and it does not',
  async (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '40000 40999');
    ns.sysctl('net.ipv4.tcp_tw_reuse', '2');
    const server = net.createServer((s) => s.resume().on('error', () => {}));
    await new Promise<void>((r) => server.listen(PORT, '127.0.0.1', r));
    try {
      const run = drive(400);
      await new Promise((r) => setTimeout(r, 1200));
      const f = await forecast({ host: '127.0.0.1', port: PORT, sampleMs: 500 });
      expect(f.timeWait).toMatchObject({ holdMs: 1000, reuse: true });
      expect(f.exhaustionSeconds).toBeNull();
      expect(f.unknown).toBe('steady-state-fits');
      // 400/s × 1 s of blocking TIME_WAIT: about 40 % of 1,000.
      expect(f.steadyUsage).toBeGreaterThan(0.3);
      expect(f.steadyUsage).toBeLessThan(0.55);
      // Run on until 2,500 connects (two and a half pools): none fails.
      const outcome = await Promise.race([
        run.failed.then((x) => `failed ${x.code} at connect ${run.made()}`),
        new Promise<string>((r) => {
          const t = setInterval(() => {
            if (run.made() >= 2500) {
              clearInterval(t);
              r('ok');
            }
          }, 50);
        }),
      ]);
      run.stop();
      expect(outcome).toBe('ok');
    } finally {
      server.close();
    }
  },
  40_000,
);
