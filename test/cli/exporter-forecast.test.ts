// `safebind_port_pool_exhaustion_seconds` from `safebind exporter` (issue 16): the same model as
// forecast() and safebind/prometheus (forecastPool), fed by the exporter's namespace walk: the
// rate of new connections between two scrapes (fresh TIME_WAIT timers plus the change in open
// sockets, lib/cli/exporter-forecast.ts) and the TIME_WAIT timers in 1-s buckets. A pod that
// churns 100 connections/s toward a listener of its own with a 2,000-port range (the forecast
// against the readings, then against the time its client's first EADDRNOTAVAIL comes); an idle pod.
import { execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { beforeAll, describe, expect, onTestFinished } from 'vitest';
import { buildBin } from './cli.js';
import { parseExposition, startExporter, startPod, type ParsedSample } from './exporter-helpers.js';
import { netnsIt, type Netns } from '../helpers/netns.js';

beforeAll(() => buildBin(), 180_000);

const GAUGE = 'safebind_port_pool_exhaustion_seconds';
const DEST = '127.0.0.1:7000';

const one = (samples: ParsedSample[], name: string, labels: Record<string, string>) => {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0];
};

interface Churn {
  path: string;
  inode: number;
  /** Connections made so far and when (performance.now() of the test process, ms). */
  made(): { count: number; atMs: number };
  /** Resolves at the first EADDRNOTAVAIL of the client (performance.now() of the test process). */
  exhausted: Promise<number>;
}

/**
 * A namespace with `range` and `twReuse` (0: a closed port stays blocked for the whole TIME_WAIT) whose node process listens on 127.0.0.1:7000 and connects to it at `rate`/s, each
 * connection closed by the client at once (a plain close: the client side goes to TIME_WAIT).
 */
async function startChurn(ns: Netns, range: string, rate: number, twReuse = 0): Promise<Churn> {
  const name = ns.peer();
  for (const s of [`net.ipv4.ip_local_port_range=${range}`, `net.ipv4.tcp_tw_reuse=${twReuse}`])
    execFileSync('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', s]);
  const script = `
    const net = require('node:net');
    let made = 0;
    net.createServer((s) => s.on('error', () => {})).listen(7000, '127.0.0.1', () => {
      const t0 = performance.now();
      let started = 0;
      setInterval(() => {
        const due = Math.floor(((performance.now() - t0) * ${rate}) / 1000);
        for (; started < due; started++) {
          const c = net.connect(7000, '127.0.0.1', () => { made++; c.end(); });
          c.on('error', (e) => { if (e.code === 'EADDRNOTAVAIL') process.stdout.write('full\\n'); });
        }
      }, 5);
      setInterval(() => process.stdout.write(made + '\\n'), 50);
    });`;
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  let last = { count: 0, atMs: performance.now() };
  let full: (atMs: number) => void = () => {};
  const exhausted = new Promise<number>((ok) => (full = ok));
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`churn process exited ${code}`)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = d.trim().split('\n');
      if (lines.includes('full')) full(performance.now());
      const counts = lines.filter((l) => /^\d+$/.test(l));
      if (counts.length) last = { count: Number(counts[counts.length - 1]), atMs: performance.now() };
      resolve();
    });
  });
  const path = `/run/netns/${name}`;
  return { path, inode: statSync(path).ino, made: () => last, exhausted };
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

describe('safebind exporter: safebind_port_pool_exhaustion_seconds', () => {
  netnsIt(
    'is absent at the first scrape, then when the churning pod fills (within 10 % of its first EADDRNOTAVAIL), and +Inf for an idle one',
    async (ns) => {
      const churn = await startChurn(ns, '40000 41999', 100);
      const idle = await startPod(ns, '40000 40999', 3);
      const exporter = await startExporter(['--netns', churn.path, '--netns', idle.path, '--dest', DEST]);
      await sleep(1000);
      const first = parseExposition(await exporter.metrics());
      const m0 = churn.made();
      // The first scrape of a namespace has nothing to compare with: no sample (unknown, not infinite).
      expect(first.filter((s) => s.name === GAUGE)).toEqual([]);
      expect(
        one(first, 'safebind_port_pool_in_use', { netns: String(churn.inode), destination: DEST })!.value,
      ).toBeGreaterThan(50);
      await sleep(3000);
      const second = parseExposition(await exporter.metrics());
      const secondAt = performance.now();
      const m1 = churn.made();

      const labels = { netns: String(churn.inode), destination: DEST };
      const inUse = one(second, 'safebind_port_pool_in_use', labels)!.value;
      const ratio = one(second, 'safebind_port_pool_usage_ratio', labels)!.value;
      const poolSize = Math.round(inUse / ratio);
      expect(poolSize).toBe(2000);
      // The client's own count of connections over the same span: the rate the pod really churns at.
      const rate = ((m1.count - m0.count) * 1000) / (m1.atMs - m0.atMs);
      expect(rate).toBeGreaterThan(60);
      // Every TIME_WAIT socket blocks its port for 60 s (tcp_tw_reuse=0) and the pool fills in
      // under 20 s, so none is freed before then: the pool fills when the rest of it is taken.
      const expected = (poolSize - inUse) / rate;
      const got = one(second, GAUGE, labels)?.value;
      expect(got, 'the churning pod has a forecast').toBeDefined();
      expect(Number.isFinite(got)).toBe(true);
      expect(Math.abs(got! - expected) / expected, `forecast ${got} s, expected ${expected} s`).toBeLessThan(
        0.15,
      );

      // The idle pod holds 3 connections and makes none: its pool never fills.
      expect(one(second, GAUGE, { netns: String(idle.inode), destination: DEST })?.value).toBe(Infinity);

      // The rehearsal: the client's first EADDRNOTAVAIL comes when the gauge said (within 10 %).
      const measured = ((await churn.exhausted) - secondAt) / 1000;
      expect(Math.abs(got! - measured) / measured, `forecast ${got} s, measured ${measured} s`).toBeLessThan(
        0.1,
      );
    },
    60_000,
  );

  netnsIt(
    "takes the TIME_WAIT hold from the pod's own tcp_tw_reuse: with reuse the same churn never fills the pool",
    async (ns) => {
      // tcp_tw_reuse=1 with timestamps (the default): connect() takes a TIME_WAIT port again after
      // tcp_tw_reuse_delay (1 s), so 100/s holds about 100 ports: the pool of 2,000 never fills.
      const reuse = await startChurn(ns, '40000 41999', 100, 1);
      const plain = await startChurn(ns, '40000 41999', 100, 0);
      const exporter = await startExporter(['--netns', reuse.path, '--netns', plain.path, '--dest', DEST]);
      await sleep(1000);
      await exporter.metrics();
      await sleep(2000);
      const second = parseExposition(await exporter.metrics());
      expect(one(second, GAUGE, { netns: String(reuse.inode), destination: DEST })?.value).toBe(Infinity);
      const plainSeconds = one(second, GAUGE, { netns: String(plain.inode), destination: DEST })?.value;
      expect(plainSeconds).toBeGreaterThan(5);
      expect(plainSeconds).toBeLessThan(25);
    },
    60_000,
  );
});
