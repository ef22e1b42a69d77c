// The issue-16 gauges of safebind/prometheus against a real table in a namespace: the exhaustion
// gauge is absent on a destination's first scrape, finite while new connections fill a small pool,
// and +Inf once none arrive; the listening-port and conntrack series match what /proc says.
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { Registry } from 'prom-client';
import { expect, onTestFinished } from 'vitest';
import { registerMetrics } from '../../lib/prometheus.js';
import { netnsIt } from '../helpers/netns.js';

const PORT = 39500;

async function closedConnections(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((ok, fail) => {
      const s = createConnection({ host: '127.0.0.1', port: PORT }, () => {
        s.end();
        ok();
      });
      s.once('error', fail);
    });
  }
}

function line(text: string, name: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

netnsIt(
  'exhaustion seconds: none on the first scrape, finite while filling, +Inf when nothing new arrives',
  async (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '40000 40999');
    ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
    const server = createServer((s) => s.resume().on('error', () => {}));
    await new Promise<void>((ok) => server.listen(PORT, '127.0.0.1', ok));
    onTestFinished(() => new Promise<void>((ok) => server.close(() => ok())));
    // One listener inside the range as well, for the audit series.
    const inside = createServer();
    await new Promise<void>((ok) => inside.listen(40777, '127.0.0.1', ok));
    onTestFinished(() => new Promise<void>((ok) => inside.close(() => ok())));

    const registry = new Registry();
    registerMetrics(registry, { destinations: [`127.0.0.1:${PORT}`] });
    await closedConnections(5);
    const first = await registry.metrics();
    expect(line(first, 'safebind_port_pool_exhaustion_seconds')).toBeUndefined();

    const started = performance.now();
    await closedConnections(200);
    const second = await registry.metrics();
    const elapsed = (performance.now() - started) / 1000;
    const m = /safebind_port_pool_exhaustion_seconds\{destination="127\.0\.0\.1:39500"\} ([\d.e+]+)/.exec(
      second,
    );
    expect(m).not.toBeNull();
    // 205 of 1,000 held; 200 new over `elapsed` s: the rest fills at that rate (no TIME_WAIT expires within 60 s).
    const expected = (1000 - 205) / (200 / elapsed);
    expect(Number(m![1])).toBeGreaterThan(expected * 0.8);
    expect(Number(m![1])).toBeLessThan(expected * 1.25);

    const third = await registry.metrics();
    expect(third).toContain('safebind_port_pool_exhaustion_seconds{destination="127.0.0.1:39500"} +Inf');

    expect(third).toContain('safebind_listen_port_unreserved_in_range{protocol="tcp",port="40777"} 1');
    expect(
      line(third, 'safebind_listen_port_unreserved_in_range{protocol="tcp",port="39500"}'),
    ).toBeUndefined();

    if (existsSync('/proc/sys/net/netfilter/nf_conntrack_count')) {
      expect(third).toContain('safebind_conntrack_loaded 1');
      const max = readFileSync('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8').trim();
      expect(third).toContain(`safebind_conntrack_max ${max}`);
      expect(line(third, 'safebind_conntrack_drop_total')).toMatch(/^safebind_conntrack_drop_total \d+$/);
    } else {
      expect(third).toContain('safebind_conntrack_loaded 0');
      expect(line(third, 'safebind_conntrack_max')).toBeUndefined();
    }
  },
  30_000,
);
