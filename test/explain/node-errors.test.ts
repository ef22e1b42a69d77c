// explain() takes Node's own errors as they come from http and dgram, not only net and SocketError,
// and throws a TypeError for something that is not an error at all.
import dgram from 'node:dgram';
import net from 'node:net';
import http from 'node:http';
import { expect, it, onTestFinished } from 'vitest';
import { explain } from '../../lib/index.js';
import type { PortHolder } from '../../lib/host/types.js';
import { netnsIt } from '../helpers/netns.js';
import { dgramBindError, listenError, listener, vethPair, type NodeSystemError } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

eachReader('explain() on errors from http and dgram', () => {
  netnsIt('an http.Server listening on a VIP that is not attached explains address-not-local', async (ns) => {
    vethPair(ns, 'v0', 'v1');
    ns.run('ip addr add 10.9.0.1/24 dev v0');
    const err = await listenError(http.createServer(), 8080, '10.9.0.50');
    expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'listen', address: '10.9.0.50', port: 8080 });

    const d = await explain(err);
    expect(d.cause).toBe('address-not-local');
    expect(d.remediation[1]?.commands).toEqual(['ip addr add 10.9.0.50/24 dev v0']);
  });

  netnsIt('an http.Server listening on a port another server holds explains port-in-use', async () => {
    await listener(7300);
    const err = await listenError(http.createServer(), 7300, '127.0.0.1');
    expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', port: 7300 });

    const d = await explain(err);
    expect(d.cause).toBe('port-in-use');
    expect(d.evidence['holders']).toEqual([
      expect.objectContaining({ state: 'LISTEN', localPort: 7300, pid: process.pid }),
    ]);
    // The same error with its port as text, as a rebuilt error may carry it: the same diagnosis.
    const texted = await explain({ ...err, message: err.message, port: '7300' });
    expect(texted.cause).toBe('port-in-use');
    // The holder is this very process: said so, and never a `kill` of itself.
    expect(d.summary).toContain(`port 7300 is taken, this process itself (pid ${process.pid}) listens on`);
    expect(d.remediation.flatMap((r) => r.commands ?? [])).not.toContain(`kill ${process.pid}`);
    expect(d.remediation[0]?.title).toMatch(/^This process \(pid \d+\) already holds port 7300/);

    // The same error stripped of its address and port: nothing to look up, so no cause is claimed
    // (it used to say every port of the ephemeral range was bound, of a bind(0.0.0.0:0) never made).
    const bare = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen' });
    const unknown = await explain(bare);
    expect(unknown.cause).toBe('unknown');
    expect(unknown.details.join(' ')).toContain('carries no address and port');
    expect(JSON.stringify(unknown)).not.toContain('0.0.0.0:0');
    // A code with no syscall at all reads as the code, not 'A system call EADDRNOTAVAIL'.
    const codeOnly = await explain(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }));
    expect(codeOnly.summary).toMatch(/^EADDRNOTAVAIL: no known cause matched/);
  });

  netnsIt('a dgram bind of a VIP that is not attached explains address-not-local', async (ns) => {
    vethPair(ns, 'v0', 'v1');
    ns.run('ip addr add 10.9.0.1/24 dev v0');
    const err = await dgramBindError('udp4', 5000, '10.9.0.51');
    expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.9.0.51', port: 5000 });

    const d = await explain(err, { protocol: 'udp' });
    expect(d.cause).toBe('address-not-local');
    expect(d.evidence['subnet']).toMatchObject({ interface: 'v0', cidr: '10.9.0.0/24' });
    expect(d.remediation[1]?.commands).toEqual(['ip addr add 10.9.0.51/24 dev v0']);
  });

  netnsIt(
    'a dgram bind of a UDP port another socket holds explains port-in-use with the UDP holder',
    async () => {
      const holder = dgram.createSocket('udp4');
      await new Promise<void>((ok) => holder.bind(5001, '127.0.0.1', ok));
      onTestFinished(() => {
        holder.close();
      });
      const err = await dgramBindError('udp4', 5001, '127.0.0.1');
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', port: 5001 });

      // With the protocol given, and without it: no TCP socket holds the port, so the UDP holder is found.
      for (const context of [{ protocol: 'udp' as const }, undefined]) {
        const d = await explain(err, context);
        expect(d.cause).toBe('port-in-use');
        const holders = d.evidence['holders'] as PortHolder[];
        expect(holders).toEqual([
          expect.objectContaining({ protocol: 'udp', local: '127.0.0.1', localPort: 5001, pid: process.pid }),
        ]);
        expect(d.evidence['protocol']).toBe('udp');
      }
    },
  );

  netnsIt(
    'a dgram bind on a port a TCP listener and a UDP socket share blames the UDP holder only, without { protocol }',
    async () => {
      const tcp = net.createServer();
      await new Promise<void>((ok) => tcp.listen(5003, '127.0.0.1', ok));
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((ok) => udp.bind(5003, '127.0.0.1', ok));
      onTestFinished(() => {
        tcp.close();
        udp.close();
      });
      const err = await dgramBindError('udp4', 5003, '127.0.0.1');
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', port: 5003 });

      // Node's dgram made the error (its first stack frame is in node:dgram): it is UDP.
      const d = await explain(err);
      expect(d.cause).toBe('port-in-use');
      expect(d.evidence['protocol']).toBe('udp');
      expect(d.evidence['holders']).toEqual([
        expect.objectContaining({ protocol: 'udp', local: '127.0.0.1', localPort: 5003, pid: process.pid }),
      ]);
      expect(d.summary).not.toMatch(/listens on/);

      // The same fields with no stack to tell: both protocols hold the port, and the diagnosis says so.
      const bare = {
        code: err.code,
        errno: err.errno,
        syscall: err.syscall,
        address: err.address,
        port: err.port,
        message: err.message,
      };
      const both = await explain(bare);
      expect(both.cause).toBe('port-in-use');
      expect(both.summary).toBe(
        'Cannot bind 127.0.0.1:5003: port 5003 is taken by TCP and by UDP sockets, and the error does not say which protocol the bind was for',
      );
      expect(both.evidence).toMatchObject({ protocolGiven: false });
      expect((both.evidence['holders'] as PortHolder[]).map((h) => [h.protocol, h.state])).toEqual([
        ['tcp', 'LISTEN'],
        ['udp', expect.any(String)],
      ]);
      expect(both.details).toContain('If the bind was UDP:');

      // The caller's word still decides.
      expect((await explain(bare, { protocol: 'tcp' })).evidence['protocol']).toBe('tcp');
    },
  );

  netnsIt('an http.get toward an address with no route explains no-route', async () => {
    const err = await new Promise<NodeSystemError>((resolve, reject) => {
      const req = http.get('http://10.99.0.1:8080/', () => reject(new Error('http.get succeeded')));
      req.once('error', (e) => resolve(e as NodeSystemError));
    });
    expect(err).toMatchObject({ code: 'ENETUNREACH', syscall: 'connect', address: '10.99.0.1', port: 8080 });

    const d = await explain(err);
    expect(d.cause).toBe('no-route');
    expect(d.evidence['route']).toMatchObject({ ok: false, code: 'ENETUNREACH' });
  });

  it('explain(42) throws a TypeError', async () => {
    await expect(explain(42)).rejects.toThrow(TypeError);
    await expect(explain(null)).rejects.toThrow(TypeError);
    await expect(explain('bind EADDRNOTAVAIL')).rejects.toThrow(TypeError);
  });
});
