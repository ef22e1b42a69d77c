// explain() on real failures about the local port: bind(…, 0) with every port of a tiny range bound,
// a port held by a listener of another process (its pid named), a port held only by TIME_WAIT, and a
// privileged port bound by an unprivileged user.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { explain } from '../../lib/index.js';
import type { PortHolder } from '../../lib/host/types.js';
import { bind, closeSocket, listen as sysListen, newSocket } from '../../lib/sys/index.js';
import type { Diagnosis, SocketError } from '../../lib/types.js';
import { netnsIt } from '../helpers/netns.js';
import { unmet } from '../helpers/prerequisite.js';
import { tempDir } from '../helpers/temp-dir.js';
import { commands, dgramBindError, listenError, options } from './helpers.js';
import { addonGap, eachReader } from '../helpers/readers.js';

/** Opens a TCP socket closed when the test ends. */
function tcpSocket(): number {
  const fd = newSocket(4, 'tcp');
  if (!fd.ok) throw new Error(fd.error.message);
  onTestFinished(() => {
    closeSocket(fd.value);
  });
  return fd.value;
}

/** A child `node -e` listening on 127.0.0.1:port; resolves once it listens, killed when the test ends. */
async function childListener(port: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('ready'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolveReady, reject) => {
    child.once('exit', (code) => reject(new Error(`child listener exited with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolveReady();
    });
  });
  if (child.pid === undefined) throw new Error('child has no pid');
  return child.pid;
}

eachReader('explain() on port causes, against the real kernel', (kind) => {
  netnsIt(
    'bind(127.0.0.1, 0) with every port of a 10-port range bound explains bind-ports-exhausted (EADDRINUSE, port 0)',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      for (let i = 0; i < 10; i++) {
        const r = bind(tcpSocket(), { address: '127.0.0.1', port: 0, family: 4 });
        if (!r.ok) throw new Error(`bind ${i}: ${r.error.message}`);
      }
      const r = bind(tcpSocket(), { address: '127.0.0.1', port: 0, family: 4 });
      if (r.ok) throw new Error('the 11th bind to port 0 succeeded');
      expect(r.error).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', port: 0 });

      const d = await explain(r.error);
      if (kind === 'no-addon') {
        // Bound-only TCP sockets are not in /proc/net/tcp: the count is said to be unread, not 0.
        expect(d.evidence['unavailable']).toEqual([
          ...addonGap(kind),
          expect.stringContaining('the bound ports of the range (TCP sockets bound without listening'),
        ]);
        expect(d.evidence['boundPorts']).toBeUndefined();
        return;
      }
      expect(d.cause).toBe('bind-ports-exhausted');
      expect(d.evidence).toMatchObject({
        boundPorts: { inUse: 10, poolSize: 10 },
        range: [40000, 40009],
        poolSize: 10,
      });
      expect(d.summary).toBe(
        'No free port for tcp bind(127.0.0.1:0): 10 of 10 ports of the range 40000-40009 are bound',
      );
      expect(commands(d)).toContain('sysctl -w net.ipv4.ip_local_port_range="1024 65535"');
    },
  );

  netnsIt(
    'dgram bind(0) with every port of a 4-port range bound explains bind-ports-exhausted for udp',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40003');
      const dgram = await import('node:dgram');
      for (let i = 0; i < 4; i++) {
        const s = dgram.createSocket('udp4');
        await new Promise<void>((ok) => s.bind(0, '127.0.0.1', ok));
        onTestFinished(() => {
          s.close();
        });
      }
      const err = await dgramBindError('udp4', 0, '127.0.0.1');
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1' });

      const d = await explain(err, { protocol: 'udp' });
      expect(d.cause).toBe('bind-ports-exhausted');
      expect(d.evidence).toMatchObject({ protocol: 'udp', boundPorts: { inUse: 4, poolSize: 4 } });
    },
  );

  netnsIt(
    'listening on a port a child process listens on explains port-in-use and names that pid',
    async () => {
      const pid = await childListener(7100);
      const err = await listenError(net.createServer(), 7100, '127.0.0.1');
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', port: 7100 });

      const d = await explain(err);
      expect(d.cause).toBe('port-in-use');
      const holders = d.evidence['holders'] as PortHolder[];
      expect(holders).toEqual([
        expect.objectContaining({
          state: 'LISTEN',
          local: '127.0.0.1',
          localPort: 7100,
          pid,
          command: 'node',
        }),
      ]);
      expect(d.summary).toBe(
        `Cannot bind 127.0.0.1:7100: port 7100 is taken, node (pid ${pid}) listens on 127.0.0.1:7100`,
      );
      expect(commands(d)).toContain(`kill ${pid}`);
      expect(options(d)).not.toContain('reuseAddress: true');
    },
  );

  netnsIt(
    'a port held only by a TIME_WAIT of a closed server explains port-in-use with reuseAddress: true first',
    async (ns) => {
      // The accepted socket closes first, so the TIME_WAIT is on the server's side: 127.0.0.1:7200.
      const server = net.createServer((s) => s.end());
      await new Promise<void>((ok) => server.listen(7200, '127.0.0.1', ok));
      const client = net.connect(7200, '127.0.0.1');
      await new Promise<void>((ok) => client.once('close', () => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
      expect(ns.sh("ss -Htan 'sport = :7200'")).toMatch(/^TIME-WAIT/);

      const fd = tcpSocket();
      const r = bind(fd, { address: '127.0.0.1', port: 7200, family: 4 });
      if (r.ok) throw new Error('bind over a TIME_WAIT without SO_REUSEADDR succeeded');
      const error: SocketError = r.error;
      expect(error.code).toBe('EADDRINUSE');

      const d = await explain(error);
      expect(d.cause).toBe('port-in-use');
      expect(d.evidence).toMatchObject({ listening: 0, timeWait: 1, hidden: 0 });
      expect(d.evidence['holders']).toEqual([
        expect.objectContaining({ state: 'TIME_WAIT', local: '127.0.0.1', localPort: 7200 }),
      ]);
      expect(d.remediation[0]?.option).toBe('reuseAddress: true');
      expect(d.summary).toContain('held only by 1 TIME_WAIT socket');

      // And the remedy works: the same bind with SO_REUSEADDR succeeds while the TIME_WAIT lasts.
      const { setReuseAddress } = await import('../../lib/sys/index.js');
      const again = tcpSocket();
      expect(setReuseAddress(again, true).ok).toBe(true);
      expect(bind(again, { address: '127.0.0.1', port: 7200, family: 4 }).ok).toBe(true);
      expect(sysListen(again).ok).toBe(true);
    },
  );

  netnsIt(
    "server.listen() on a port a connection holds records reuseAddress: true, Node's own, and does not suggest it",
    async (ns) => {
      // A client socket bound to 127.0.0.1:7300 without SO_REUSEADDR, connected to a listener: it
      // blocks even a bind with SO_REUSEADDR, which is what net.Server#listen does (libuv sets it).
      const peer = net.createServer();
      await new Promise<void>((ok) => peer.listen(7301, '127.0.0.1', ok));
      onTestFinished(() => {
        peer.close();
      });
      const fd = tcpSocket();
      const { connect: sysConnect } = await import('../../lib/sys/index.js');
      expect(bind(fd, { address: '127.0.0.1', port: 7300, family: 4 }).ok).toBe(true);
      expect(sysConnect(fd, { address: '127.0.0.1', port: 7301, family: 4 }).ok).toBe(true);
      await new Promise<void>((ok) => peer.once('connection', () => ok()));
      expect(ns.sh("ss -Htan 'sport = :7300'")).toMatch(/^ESTAB/);

      const err = await listenError(net.createServer(), 7300, '127.0.0.1');
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', port: 7300 });

      const d = await explain(err);
      expect(d.cause).toBe('port-in-use');
      expect(d.evidence).toMatchObject({ reuseAddress: true, listening: 0 });
      expect(d.evidence['holders']).toEqual([
        expect.objectContaining({ state: 'ESTABLISHED', local: '127.0.0.1', localPort: 7300 }),
      ]);
      expect(options(d)).not.toContain('reuseAddress: true');
      expect(d.remediation.map((r) => r.title).join('\n')).not.toMatch(/Set SO_REUSEADDR/);
      // What the caller says still wins.
      expect((await explain(err, { options: { reuseAddress: false } })).evidence['reuseAddress']).toBe(false);
    },
  );

  netnsIt(
    'listening on port 80 as uid 65534 explains port-privileged from inside that process',
    async (_ns, ctx) => {
      const esbuild = await import('esbuild').catch(() => undefined);
      if (esbuild === undefined) unmet(ctx, 'esbuild is not installed to bundle the child');
      const setpriv = spawnSync('setpriv', ['--version']);
      if (setpriv.status !== 0 || process.getuid?.() !== 0) {
        unmet(ctx, 'needs setpriv and root to switch to uid 65534');
      }
      const dir = tempDir('safebind-priv-');
      chmodSync(dir, 0o755);
      // The bundled loader finds its package root by this manifest; the addon comes from SAFEBIND_ADDON.
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'safebind', type: 'module' }));
      await esbuild.build({
        entryPoints: [resolve(import.meta.dirname, 'privileged-child.ts')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: join(dir, 'child.mjs'),
        logLevel: 'silent',
      });
      const run = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(dir, 'child.mjs'), '80'],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            SAFEBIND_ADDON: resolve(
              process.env.SAFEBIND_ADDON ?? resolve(import.meta.dirname, '../../build/Release/safebind.node'),
            ),
          },
          timeout: 20_000,
        },
      );
      const line = run.stdout.trim().split('\n').pop() ?? '';
      if (run.status !== 0 || line === '') throw new Error(`child failed: ${run.stderr}`);
      const out = JSON.parse(line) as {
        uid: number;
        listening?: boolean;
        error?: Record<string, unknown>;
        diagnosis?: Diagnosis;
      };
      expect(out.uid).toBe(65534);
      if (out.listening === true) unmet(ctx, 'uid 65534 may bind port 80 in this namespace');
      expect(out.error).toMatchObject({ code: 'EACCES', syscall: 'listen', port: 80 });
      const d = out.diagnosis;
      expect(d?.cause).toBe('port-privileged');
      expect(d?.evidence).toMatchObject({
        port: 80,
        ipUnprivilegedPortStart: 1024,
        euid: 65534,
        netBindService: false,
      });
      expect(d?.summary).toBe(
        'Cannot bind 127.0.0.1:80: port 80 is below 1024 (net.ipv4.ip_unprivileged_port_start) and this process lacks CAP_NET_BIND_SERVICE',
      );
      expect(d === undefined ? [] : commands(d)).toContain(
        'sysctl -w net.ipv4.ip_unprivileged_port_start=80',
      );
    },
    60_000,
  );
});
