// safebind/prometheus against a real socket table: in a fresh namespace with a known port range and
// known connections, every gauge of a scrape equals what `ss` counts at the same moment.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FORECAST_METRIC_NAMES, METRIC_NAMES, registerMetrics } from '../../lib/prometheus.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { ssCounts } from '../host/tables.js';

/** Sockets toward host:port in any state but LISTEN, as ss counts them. */
function ssToward(ns: Netns, host: string, port: number): number {
  return ns.sh(`ss -Htan state all exclude listening dst ${host}:${port}`).split('\n').filter(Boolean).length;
}

async function listen(port: number): Promise<Server> {
  const server = createServer((s) => s.on('error', () => {}));
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
  onTestFinished(() => new Promise<void>((ok) => server.close(() => ok())));
  return server;
}

async function connectMany(port: number, n: number): Promise<Socket[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((ok, fail) => {
          const s = createConnection({ host: '127.0.0.1', port }, () => ok(s));
          s.once('error', fail);
        }),
    ),
  );
  onTestFinished(() => {
    for (const s of sockets) s.destroy();
  });
  return sockets;
}

/** Client-side closes that leave `n` TIME_WAIT sockets toward the port (they hold their ports 60 s). */
async function timeWaits(ns: Netns, port: number, n: number): Promise<void> {
  for (const s of await connectMany(port, n)) s.end();
  await settle();
}

/** Waits until no socket is between states, so a scrape and ss see the same table. */
async function settle(): Promise<void> {
  const moving = ['SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING'];
  for (let i = 0; i < 100; i++) {
    const states = ssCounts('');
    if (moving.every((s) => !states[s])) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`sockets did not settle: ${JSON.stringify(ssCounts(''))}`);
}

type Sample = { labels: Record<string, string | number | undefined>; value: number };

async function scrape(registry: Registry): Promise<Record<string, Sample[]>> {
  const out: Record<string, Sample[]> = {};
  for (const metric of await registry.getMetricsAsJSON()) {
    out[metric.name] = metric.values.map((v) => ({ labels: { ...v.labels }, value: v.value }));
  }
  return out;
}

function valueOf(samples: Sample[] | undefined, labels: Record<string, string> = {}): number | undefined {
  return samples?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function makeTable(ns: Netns): Promise<void> {
  ns.sysctl('net.ipv4.ip_local_port_range', '40000 40099');
  ns.sysctl('net.ipv4.ip_local_reserved_ports', '40000-40009');
  ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');
  await listen(5432);
  await listen(6379);
  await connectMany(5432, 30);
  await timeWaits(ns, 5432, 15);
  await connectMany(6379, 5);
  await settle();
}

describe('registerMetrics', () => {
  netnsIt('every gauge of a scrape equals what ss counts, for a destination given by address', async (ns) => {
    await makeTable(ns);
    const registry = new Registry();
    registerMetrics(registry, { destinations: ['127.0.0.1:5432'] });

    const m = await scrape(registry);
    const ss = ssCounts('');

    const sockets = Object.fromEntries((m.safebind_sockets ?? []).map((s) => [s.labels.state, s.value]));
    expect(sockets).toEqual(ss);
    expect(sockets.TIME_WAIT).toBe(15);
    expect(valueOf(m.safebind_port_range_size)).toBe(100);
    const toward = ssToward(ns, '127.0.0.1', 5432);
    expect(toward).toBe(45);
    expect(m.safebind_port_pool_in_use).toEqual([
      { labels: { destination: '127.0.0.1:5432' }, value: toward },
    ]);
    // The pool is the range less the ten reserved ports.
    expect(valueOf(m.safebind_port_pool_usage_ratio, { destination: '127.0.0.1:5432' })).toBeCloseTo(
      45 / 90,
      10,
    );
    expect(valueOf(m.safebind_nonlocal_bind_enabled, { family: 'ipv4' })).toBe(1);
    expect(valueOf(m.safebind_nonlocal_bind_enabled, { family: 'ipv6' })).toBe(0);
  });

  netnsIt('with no destinations given, the busiest destinations are exported, busiest first', async (ns) => {
    await makeTable(ns);
    const registry = new Registry();
    registerMetrics(registry, { top: 2 });

    const m = await scrape(registry);
    expect(m.safebind_port_pool_in_use).toEqual([
      { labels: { destination: '127.0.0.1:5432' }, value: ssToward(ns, '127.0.0.1', 5432) },
      { labels: { destination: '127.0.0.1:6379' }, value: ssToward(ns, '127.0.0.1', 6379) },
    ]);
    expect(valueOf(m.safebind_port_pool_usage_ratio, { destination: '127.0.0.1:6379' })).toBeCloseTo(
      5 / 90,
      10,
    );
  });

  netnsIt('each scrape reads the host afresh, with no timer left behind', async (ns) => {
    await makeTable(ns);
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const registry = new Registry();
    registerMetrics(registry, { destinations: ['127.0.0.1:5432'] });
    const first = await scrape(registry);
    expect(valueOf(first.safebind_port_pool_in_use)).toBe(45);

    await connectMany(5432, 10);
    ns.sysctl('net.ipv4.ip_local_port_range', '40000 40199');
    ns.sysctl('net.ipv4.ip_nonlocal_bind', '0');
    await settle();
    const second = await scrape(registry);
    expect(valueOf(second.safebind_port_pool_in_use)).toBe(ssToward(ns, '127.0.0.1', 5432));
    expect(valueOf(second.safebind_port_pool_in_use)).toBe(55);
    expect(valueOf(second.safebind_port_range_size)).toBe(200);
    expect(valueOf(second.safebind_nonlocal_bind_enabled, { family: 'ipv4' })).toBe(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(timersBefore);
  });

  netnsIt('an IPv6 destination is labelled in brackets and counted as ss counts it', async (ns) => {
    const server = createServer((s) => s.on('error', () => {}));
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(8443, '::1', ok));
    onTestFinished(() => new Promise<void>((ok) => server.close(() => ok())));
    const sockets = await Promise.all(
      Array.from(
        { length: 7 },
        () =>
          new Promise<Socket>((ok, fail) => {
            const s = createConnection({ host: '::1', port: 8443 }, () => ok(s));
            s.once('error', fail);
          }),
      ),
    );
    onTestFinished(() => sockets.forEach((s) => s.destroy()));
    await settle();
    const registry = new Registry();
    registerMetrics(registry, { destinations: ['[::1]:8443'] });
    const m = await scrape(registry);
    const counted = ns
      .sh('ss -Htan state all exclude listening dst [::1]:8443')
      .split('\n')
      .filter(Boolean).length;
    expect(counted).toBe(7);
    expect(m.safebind_port_pool_in_use).toEqual([{ labels: { destination: '[::1]:8443' }, value: counted }]);
  });

  it('refuses a destination that is a host name or has no port, adding nothing', () => {
    const registry = new Registry();
    expect(() => registerMetrics(registry, { destinations: ['db.internal:5432'] })).toThrow(/names a host/);
    expect(() => registerMetrics(registry, { destinations: ['10.0.0.7'] })).toThrow(TypeError);
    // @ts-expect-error a port number is not a destination
    expect(() => registerMetrics(registry, { destinations: [5432] })).toThrow(TypeError);
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it('refuses a second registration on the same registry and leaves the first intact', () => {
    const registry = new Registry();
    registerMetrics(registry);
    expect(() => registerMetrics(registry)).toThrow(/already has safebind_sockets/);
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual([
      ...METRIC_NAMES,
      ...FORECAST_METRIC_NAMES,
    ]);
  });
});
