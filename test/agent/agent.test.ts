// safebind/agent against a real http server in a second namespace, across a veth pair, with three
// source addresses on this side and a pool of 10 source ports: connections spread over the sources,
// a full source is skipped, EADDRNOTAVAIL moves on to the next source, every source full fails with
// the diagnosis and each source's figures, keep-alive still reuses connections — for http.Agent, for
// undici and for safeConnect({ sources }).
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import net from 'node:net';
import { onTestFinished, describe, expect } from 'vitest';
import { request } from 'undici';
import { createAgent, createDispatcher, createHttpsAgent, SourceConnectError } from '../../lib/agent.js';
import { safeConnect } from '../../lib/api/safe-connect.js';
import { explain } from '../../lib/index.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { tempDir } from '../helpers/temp-dir.js';
import { fdCount } from '../api/helpers.js';

const SERVER = '10.77.0.1';
const PORT = 8080;
const SOURCES = ['10.77.0.11', '10.77.0.12', '10.77.0.13'];
const POOL = 10;
const fixture = join(import.meta.dirname, 'fixtures', 'http-server.mjs');

/** The veth pair, the sources on this end, the small range, and the server started in the peer. */
async function setUp(ns: Netns, tls?: { key: string; cert: string }): Promise<void> {
  const peer = ns.peer();
  ns.run('ip link add ag0 type veth peer name ag1');
  ns.run(`ip link set ag1 netns ${peer}`);
  ns.run(`ip -n ${peer} addr add ${SERVER}/24 dev ag1`);
  ns.run(`ip -n ${peer} link set ag1 up`);
  for (const s of SOURCES) ns.run(`ip addr add ${s}/24 dev ag0`);
  ns.run('ip link set ag0 up');
  ns.sysctl('net.ipv4.ip_local_port_range', `40000 ${40000 + POOL - 1}`);
  const args = ['netns', 'exec', peer, process.execPath, fixture, SERVER, String(PORT)];
  if (tls) args.push(tls.key, tls.cert);
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => {
    child.kill();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => (d.toString().includes('ready') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`the server exited ${code}`)));
  });
}

/** What the server answers: the client's address and port, and over TLS whether it resumed a session. */
interface Seen {
  address: string;
  port: number;
  reused: boolean;
}

/** GET / through `agent` (over https when it is an https.Agent): the server's answer. */
function get(agent: http.Agent, localAddress?: string): Promise<Seen> {
  const client = agent instanceof https.Agent ? https : http;
  return new Promise((resolve, reject) => {
    client
      .get(
        { host: SERVER, port: PORT, path: '/', agent, ...(localAddress ? { localAddress } : {}) },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve(JSON.parse(body) as Seen));
        },
      )
      .on('error', reject);
  });
}

/** A request the server never answers: it holds its connection until destroyed. */
function hang(agent: http.Agent): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: SERVER, port: PORT, path: '/hang', agent });
    req.once('socket', (s: net.Socket) => {
      if (!s.connecting) resolve(req);
      else s.once('connect', () => resolve(req));
    });
    req.once('error', reject);
    onTestFinished(() => {
      req.destroy();
    });
  });
}

/** Established connections toward the server, as ss counts them in this namespace. */
const established = () =>
  Number(
    execFileSync('sh', ['-c', `ss -Htn state established dst ${SERVER}:${PORT} | wc -l`], {
      encoding: 'utf8',
    }),
  );

const count = (xs: string[]) => Object.fromEntries(SOURCES.map((s) => [s, xs.filter((x) => x === s).length]));

describe('safebind/agent', () => {
  netnsIt('http.Agent: held connections spread evenly, least-used source first', async (ns) => {
    await setUp(ns);
    const agent = createAgent({ sources: SOURCES });
    const held = await Promise.all(Array.from({ length: 6 }, () => hang(agent)));
    const from = held.map((r) => (r.socket as net.Socket).localAddress ?? '');
    expect(count(from)).toEqual({ '10.77.0.11': 2, '10.77.0.12': 2, '10.77.0.13': 2 });
    // IP_BIND_ADDRESS_NO_PORT: the port was chosen at connect, from the namespace's small range.
    for (const r of held) expect((r.socket as net.Socket).localPort).toBeGreaterThanOrEqual(40000);
    agent.destroy();
  });

  netnsIt('a source whose pool is full is skipped: EADDRNOTAVAIL moves on to the next source', async (ns) => {
    await setUp(ns);
    // Fill 10.77.0.11's pool toward the server behind the agent's back.
    const outside: net.Socket[] = [];
    for (let i = 0; i < POOL; i++) {
      const r = await safeConnect({ host: SERVER, port: PORT, localAddress: SOURCES[0] ?? '' });
      if (!r.ok) throw new Error(r.diagnosis.summary);
      outside.push(r.socket);
    }
    onTestFinished(() => outside.forEach((s) => s.destroy()));
    const agent = createAgent({ sources: SOURCES });
    // The first order starts at 10.77.0.11: its connect fails and the request still succeeds.
    const held = await Promise.all(Array.from({ length: 4 }, () => hang(agent)));
    const from = held.map((r) => (r.socket as net.Socket).localAddress ?? '');
    const c = count(from);
    expect(c['10.77.0.11']).toBe(0);
    expect(c['10.77.0.12']! + c['10.77.0.13']!).toBe(4);
    // Known full, 10.77.0.11 is skipped from now on: a fifth request goes to the least used of the others.
    const fifth = await hang(agent);
    expect((fifth.socket as net.Socket).localAddress).not.toBe('10.77.0.11');
    agent.destroy();
  });

  netnsIt(
    'every source full: the request fails with ephemeral-ports-exhausted and each source’s figures',
    async (ns) => {
      await setUp(ns);
      const agent = createAgent({ sources: SOURCES });
      const held = await Promise.all(Array.from({ length: POOL * SOURCES.length }, () => hang(agent)));
      expect(held).toHaveLength(30);
      const err = await get(agent).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SourceConnectError);
      const e = err as SourceConnectError;
      expect([e.syscall, e.code, e.errno]).toEqual(['connect', 'EADDRNOTAVAIL', -99]);
      expect(e.diagnosis.cause).toBe('ephemeral-ports-exhausted');
      expect(e.tried.map((t) => t.source).sort()).toEqual(SOURCES);
      const figures = e.diagnosis.evidence['sources'] as Array<Record<string, unknown>>;
      expect(figures.map((f) => [f['source'], f['inUse'], f['poolSize'], f['live']]).sort()).toEqual(
        SOURCES.map((s) => [s, POOL, POOL, POOL]),
      );
      expect(e.diagnosis.details.join('\n')).toContain('From 10.77.0.12: 10 of 10 ports in use');
      // explain() of the error, bare or wrapped as fetch wraps it, gives the diagnosis it carries: a
      // reading after the fact would count all three sources' sockets against one pool (300 %).
      expect(await explain(e)).toEqual(e.diagnosis);
      expect((await explain(new TypeError('fetch failed', { cause: e }))).summary).toBe(e.diagnosis.summary);
      agent.destroy();
    },
  );

  netnsIt('keepAlive still reuses one connection; maxSockets still applies', async (ns) => {
    await setUp(ns);
    const agent = createAgent({ sources: SOURCES, keepAlive: true, maxSockets: 1 });
    const seen: Seen[] = [];
    for (let i = 0; i < 5; i++) seen.push(await get(agent));
    expect(new Set(seen.map((s) => `${s.address}:${s.port}`)).size).toBe(1);
    const parallel = await Promise.all(Array.from({ length: 4 }, () => get(agent)));
    expect(new Set(parallel.map((s) => `${s.address}:${s.port}`)).size).toBe(1);
    agent.destroy();
  });

  netnsIt(
    'maxSockets holds while connects are in flight: the rest wait, then take the freed place',
    async (ns) => {
      await setUp(ns);
      const agent = createAgent({ sources: SOURCES, maxSockets: 2 });
      onTestFinished(() => agent.destroy());
      // Six requests in one tick: without a place held per connect in flight, each would open its own.
      const reqs = Array.from({ length: 6 }, () =>
        http.get({ host: SERVER, port: PORT, path: '/hang', agent }).on('error', () => undefined),
      );
      const withSocket = () => reqs.filter((r) => r.socket !== null && r.socket !== undefined).length;
      await expect.poll(withSocket, { timeout: 5000 }).toBe(2);
      await new Promise((r) => setTimeout(r, 200));
      expect(withSocket()).toBe(2);
      expect(established()).toBe(2);
      expect(Object.values(agent.requests).flat()).toHaveLength(4);
      // One ends: its place goes to the first waiting request.
      reqs[0]?.destroy();
      await expect.poll(withSocket, { timeout: 5000 }).toBe(3);
      expect(reqs[2]?.socket).toBeTruthy();
      await expect.poll(established, { timeout: 5000 }).toBe(2);
    },
  );

  netnsIt(
    'a request that names its localAddress leaves from it, still without a port at bind',
    async (ns) => {
      await setUp(ns);
      const agent = createAgent({ sources: SOURCES.slice(0, 2) });
      onTestFinished(() => agent.destroy());
      // A third address, outside the agent's sources: the request's own choice wins.
      for (const seen of [await get(agent, SOURCES[2]), await get(agent, SOURCES[2])]) {
        expect(seen.address).toBe(SOURCES[2]);
        expect(seen.port).toBeGreaterThanOrEqual(40000);
      }
      const bad = await new Promise<unknown>((resolve) => {
        http
          .get({ host: SERVER, port: PORT, agent, localAddress: 'not-an-ip' }, () => resolve('answered'))
          .on('error', resolve);
      });
      expect(bad).toBeInstanceOf(TypeError);
      expect(String((bad as Error).message)).toContain('localAddress not-an-ip');
    },
  );

  netnsIt(
    'a destination of a family no source has fails at once with a TypeError naming the sources',
    async () => {
      const agent = createAgent({ sources: ['127.0.0.2', '127.0.0.3'] });
      onTestFinished(() => agent.destroy());
      const bad = await new Promise<unknown>((resolve) => {
        http.get({ host: '::1', port: 9, agent }, () => resolve('answered')).on('error', resolve);
      });
      expect(bad).toBeInstanceOf(TypeError);
      expect((bad as Error).message).toBe(
        'safebind/agent: no source address of IPv6 for an IPv6 destination (sources: 127.0.0.2, 127.0.0.3)',
      );
    },
  );

  netnsIt('a failed connect hands its place to the next waiting request, which fails in turn', async (ns) => {
    await setUp(ns);
    const agent = createAgent({ sources: SOURCES, maxSockets: 1 });
    onTestFinished(() => agent.destroy());
    // Nothing listens on PORT + 1: each connect is refused. Without the hand-off the second would wait forever.
    const refused = (i: number) =>
      new Promise<unknown>((resolve) => {
        http
          .get({ host: SERVER, port: PORT + 1, path: `/${i}`, agent }, () => resolve('answered'))
          .on('error', resolve);
      });
    const errs = await Promise.all([refused(1), refused(2), refused(3)]);
    expect(errs.map((e) => (e as { code?: string }).code)).toEqual([
      'ECONNREFUSED',
      'ECONNREFUSED',
      'ECONNREFUSED',
    ]);
    // The refused sockets leave the Agent when they close, as Node's own do (just after the error).
    await expect.poll(() => Object.values(agent.sockets).flat()).toEqual([]);
    expect(Object.values(agent.requests).flat()).toEqual([]);
  });

  netnsIt(
    "while the connect is in flight the request's timeout, destroy() and signal act at once, as with http.Agent",
    async (ns) => {
      await setUp(ns);
      const agent = createAgent({ sources: SOURCES });
      onTestFinished(() => agent.destroy());
      const before = fdCount();
      // 10.77.0.50 is on the link and nobody answers its ARP: the connect would wait seconds.
      const attempt = (how: 'timeout' | 'destroy' | 'signal') =>
        new Promise<{ ms: number; connecting: boolean | undefined; code?: string }>((resolve) => {
          const t = performance.now();
          const controller = new AbortController();
          let connecting: boolean | undefined;
          const req = http.get({
            host: '10.77.0.50',
            port: PORT,
            agent,
            ...(how === 'timeout' ? { timeout: 300 } : {}),
            ...(how === 'signal' ? { signal: controller.signal } : {}),
          });
          req.on('socket', (socket) => {
            connecting = socket.connecting;
            if (how === 'destroy') setTimeout(() => req.destroy(), 300);
            if (how === 'signal') setTimeout(() => controller.abort(), 300);
          });
          req.on('timeout', () => req.destroy());
          req.on('error', (e: Error & { code?: string }) =>
            resolve({ ms: performance.now() - t, connecting, code: e.code }),
          );
        });
      for (const how of ['timeout', 'destroy', 'signal'] as const) {
        const r = await attempt(how);
        // The request had the socket while it was still connecting, and gave up in ~300 ms, not the
        // kernel's seconds (EHOSTUNREACH after ARP fails).
        expect(r.connecting, how).toBe(true);
        expect(r.ms, how).toBeLessThan(1500);
        expect(r.code, how).not.toBe('EHOSTUNREACH');
      }
      await expect.poll(() => Object.values(agent.sockets).flat().length).toBe(0);
      await expect.poll(fdCount, { timeout: 2000 }).toBe(before);
    },
  );

  netnsIt('agent.destroy() aborts a connect in flight and closes its descriptor', async (ns) => {
    await setUp(ns);
    const agent = createAgent({ sources: SOURCES });
    const before = fdCount();
    // 10.77.0.50 is on the link and nobody answers its ARP: the connect waits (seconds) for EHOSTUNREACH.
    const failed = new Promise<unknown>((resolve) => {
      http.get({ host: '10.77.0.50', port: PORT, agent }, () => resolve('answered')).on('error', resolve);
    });
    // Before the connect(2) call is made (its place is held in agent.sockets): aborted, nothing opened.
    expect(Object.values(agent.sockets).flat()).toHaveLength(1);
    let t = performance.now();
    agent.destroy();
    const err = (await failed) as Error & { code?: string };
    expect(performance.now() - t).toBeLessThan(1000);
    expect(err.name).toBe('AbortError');
    expect(Object.values(agent.sockets).flat()).toEqual([]);
    await expect.poll(fdCount, { timeout: 2000 }).toBe(before);

    // After it, the socket is the request's (still connecting): destroyed as Node's Agent destroys its own.
    const second = createAgent({ sources: SOURCES });
    const handed = new Promise<unknown>((resolve) => {
      const req = http.get({ host: '10.77.0.50', port: PORT, agent: second }, () => resolve('answered'));
      req.on('error', resolve);
    });
    await expect
      .poll(() =>
        Object.values(second.sockets)
          .flat()
          .some((s) => s instanceof net.Socket),
      )
      .toBe(true);
    t = performance.now();
    second.destroy();
    const err2 = (await handed) as Error & { code?: string };
    expect(performance.now() - t).toBeLessThan(1000);
    expect(err2.code).toBe('ECONNRESET');
    await expect.poll(fdCount, { timeout: 2000 }).toBe(before);
  });

  netnsIt(
    'undici: spreads over the sources, reuses connections, and fails with the diagnosis',
    async (ns) => {
      await setUp(ns);
      const dispatcher = createDispatcher({ sources: SOURCES, connections: 100 });
      onTestFinished(() => dispatcher.destroy());
      // Keep-alive: sequential requests reuse one connection (connections: 1: undici opens no second).
      const single = createDispatcher({ sources: SOURCES, connections: 1 });
      onTestFinished(() => single.destroy());
      const one = [];
      for (let i = 0; i < 4; i++)
        one.push(await (await request(`http://${SERVER}:${PORT}/`, { dispatcher: single })).body.json());
      expect(new Set(one.map((s) => JSON.stringify(s))).size).toBe(1);
      // Node's own fetch takes the dispatcher too (its bundled undici, not the copy the agent loads),
      // on the same kept-alive connection. Its RequestInit types `dispatcher` with @types/node's
      // copy of undici's types, which TypeScript does not take for undici 7's (README).
      const viaFetch: unknown = await (
        await fetch(`http://${SERVER}:${PORT}/`, { dispatcher: single } as unknown as RequestInit)
      ).json();
      expect(viaFetch).toEqual(one[0]);
      // Held requests each take a connection: they spread, and the 31st finds every pool full.
      const ac = new AbortController();
      onTestFinished(() => ac.abort());
      const hung = Array.from({ length: POOL * SOURCES.length - 1 }, () =>
        request(`http://${SERVER}:${PORT}/hang`, { dispatcher, signal: ac.signal }).catch(() => undefined),
      );
      await expect
        .poll(
          () =>
            Number(
              execFileSync('sh', ['-c', `ss -Htn state established dst ${SERVER}:${PORT} | wc -l`], {
                encoding: 'utf8',
              }),
            ),
          { timeout: 5000 },
        )
        .toBe(POOL * SOURCES.length);
      const perSource = execFileSync('ss', ['-Htn', 'state', 'established', 'dst', `${SERVER}:${PORT}`], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[2]?.split(':')[0] ?? '');
      expect(count(perSource)).toEqual({ '10.77.0.11': 10, '10.77.0.12': 10, '10.77.0.13': 10 });
      const failed = await request(`http://${SERVER}:${PORT}/`, { dispatcher }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failed).toBeInstanceOf(SourceConnectError);
      expect((failed as SourceConnectError).diagnosis.cause).toBe('ephemeral-ports-exhausted');
      ac.abort();
      await Promise.all(hung);
    },
  );

  netnsIt('https agent: TLS over the pooled connection', async (ns) => {
    const dir = tempDir('safebind-agent-tls-');
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=agent.test',
        '-addext',
        `subjectAltName=IP:${SERVER}`,
      ],
      { stdio: 'ignore' },
    );
    await setUp(ns, { key, cert });
    const agent = createHttpsAgent({
      sources: SOURCES.slice(1),
      ca: [readFileSync(cert)],
      keepAlive: true,
    });
    const body = await get(agent);
    expect(SOURCES.slice(1)).toContain(body.address);
    agent.destroy();

    // A new connection per request: the second handshake resumes the first one's session, through
    // the https Agent and through undici, as Node's https.Agent and undici's own connector do.
    const once = createHttpsAgent({ sources: SOURCES.slice(1), ca: [readFileSync(cert)], keepAlive: false });
    onTestFinished(() => once.destroy());
    const first = await get(once);
    const second = await get(once);
    expect([first.reused, second.reused]).toEqual([false, true]);
    expect(`${second.address}:${second.port}`).not.toBe(`${first.address}:${first.port}`);

    const dispatcher = createDispatcher({ sources: SOURCES.slice(1), connect: { ca: [readFileSync(cert)] } });
    onTestFinished(() => dispatcher.destroy());
    const viaUndici = async () =>
      (await (await request(`https://${SERVER}:${PORT}/`, { dispatcher, reset: true })).body.json()) as Seen;
    const u1 = await viaUndici();
    const u2 = await viaUndici();
    expect([u1.reused, u2.reused]).toEqual([false, true]);
    expect(`${u2.address}:${u2.port}`).not.toBe(`${u1.address}:${u1.port}`);

    // maxCachedSessions: 0 keeps none.
    const none = createHttpsAgent({
      sources: SOURCES.slice(1),
      ca: [readFileSync(cert)],
      keepAlive: false,
      maxCachedSessions: 0,
    });
    onTestFinished(() => none.destroy());
    await get(none);
    expect((await get(none)).reused).toBe(false);
  });

  netnsIt('safeConnect({ sources }): least-used source, and every source full is diagnosed', async (ns) => {
    await setUp(ns);
    const open: net.Socket[] = [];
    onTestFinished(() => open.forEach((s) => s.destroy()));
    for (let i = 0; i < POOL * SOURCES.length; i++) {
      const r = await safeConnect({ host: SERVER, port: PORT, sources: SOURCES });
      if (!r.ok) throw new Error(`connect ${i}: ${r.diagnosis.summary}`);
      open.push(r.socket);
    }
    expect(count(open.map((s) => s.localAddress ?? ''))).toEqual({
      '10.77.0.11': 10,
      '10.77.0.12': 10,
      '10.77.0.13': 10,
    });
    const full = await safeConnect({ host: SERVER, port: PORT, sources: SOURCES });
    expect(full.ok).toBe(false);
    if (full.ok) return;
    expect(full.error.code).toBe('EADDRNOTAVAIL');
    expect(full.diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect((full.diagnosis.evidence['sources'] as unknown[]).length).toBe(3);
  });

  netnsIt(
    'failures leave no descriptor open: every source full, retried, for safeConnect and the agent',
    async (ns) => {
      await setUp(ns);
      const open: net.Socket[] = [];
      onTestFinished(() => open.forEach((s) => s.destroy()));
      for (let i = 0; i < POOL * SOURCES.length; i++) {
        const r = await safeConnect({ host: SERVER, port: PORT, sources: SOURCES });
        if (!r.ok) throw new Error(r.diagnosis.summary);
        open.push(r.socket);
      }
      const agent = createAgent({ sources: SOURCES });
      onTestFinished(() => agent.destroy());
      await get(agent).catch(() => undefined);
      const before = fdCount();
      for (let i = 0; i < 5; i++) {
        const r = await safeConnect({ host: SERVER, port: PORT, sources: SOURCES });
        expect(r.ok).toBe(false);
        await expect(get(agent)).rejects.toBeInstanceOf(SourceConnectError);
      }
      expect(fdCount()).toBe(before);
    },
  );
});
