// safeListen() starts a net/http server or a dgram socket on a descriptor safeBind made, so a service
// gets freebind, waitForAddress and a diagnosis with the servers it already uses.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { describe, expect } from 'vitest';
import { safeListen } from '../../lib/api/safe-listen.js';
import { netnsIt } from '../helpers/netns.js';
import { fdCount } from './helpers.js';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('safeListen', () => {
  netnsIt(
    'an HTTP server bound with freebind before its address exists answers once it is attached',
    async (ns) => {
      const server = http.createServer((_req, res) => res.end('hello from the VIP'));
      const result = await safeListen(server, { host: '10.80.0.5', port: 8080, freebind: true });
      try {
        if (!result.ok) throw new Error(result.diagnosis.summary);
        expect(result.address).toEqual({ address: '10.80.0.5', family: 'IPv4', port: 8080 });
        expect(server.listening).toBe(true);
        ns.run('ip addr add 10.80.0.5/24 dev lo');
        expect(await get('http://10.80.0.5:8080/')).toEqual({ status: 200, body: 'hello from the VIP' });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  netnsIt('an HTTP server waits for its address and then serves', async (ns) => {
    const server = http.createServer((_req, res) => res.end('ok'));
    setTimeout(() => ns.run('ip addr add 10.81.0.5/24 dev lo'), 150);
    const result = await safeListen(server, { host: '10.81.0.5', port: 8081, waitForAddress: 5_000 });
    try {
      if (!result.ok) throw new Error(result.diagnosis.summary);
      expect(await get('http://10.81.0.5:8081/')).toEqual({ status: 200, body: 'ok' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  netnsIt('a dgram socket receives datagrams on the bound address', async () => {
    const socket = dgram.createSocket('udp4');
    const result = await safeListen(socket, { host: '127.0.0.1', port: 0 });
    try {
      if (!result.ok) throw new Error(result.diagnosis.summary);
      expect(result.address.address).toBe('127.0.0.1');
      const received = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
      const sender = dgram.createSocket('udp4');
      sender.send('ping', result.address.port, '127.0.0.1');
      expect(await received).toBe('ping');
      sender.close();
    } finally {
      socket.close();
    }
  });

  netnsIt('an IPv6 dgram socket over freebind, and a family mismatch is invalid-address', async () => {
    const v6 = dgram.createSocket('udp6');
    const ok = await safeListen(v6, { host: 'fd00:82::1', port: 5353, freebind: true });
    expect(ok.ok).toBe(true);
    v6.close();
    const before = fdCount();
    const v4 = dgram.createSocket('udp4');
    const mismatch = await safeListen(v4, { host: '::1', port: 0 });
    expect(mismatch.ok).toBe(false);
    if (!mismatch.ok) {
      expect(mismatch.diagnosis.cause).toBe('invalid-address');
      expect(mismatch.diagnosis.summary).toContain("dgram.createSocket('udp6')");
    }
    expect(fdCount()).toBe(before);
  });

  netnsIt(
    'a port held by a listener fails with port-in-use, the server stays closed, nothing leaks',
    async () => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(18090, '127.0.0.1', resolve));
      const before = fdCount();
      const server = net.createServer();
      const result = await safeListen(server, { host: '127.0.0.1', port: 18090 });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toMatchObject({ code: 'EADDRINUSE', port: 18090 });
        expect(result.diagnosis.cause).toBe('port-in-use');
      }
      expect(fdCount()).toBe(before);
      expect(server.listening).toBe(false);
      await new Promise((resolve) => holder.close(resolve));
    },
  );

  netnsIt('backlog reaches listen(2): the accept queue holds that many connections', async () => {
    const server = net.createServer();
    server.maxConnections = 0;
    const result = await safeListen(server, { host: '127.0.0.1', port: 0, backlog: 7 });
    try {
      if (!result.ok) throw new Error(result.diagnosis.summary);
      // `ss -ltn` shows the backlog of a listener in its Send-Q column.
      const { execFileSync } = await import('node:child_process');
      const line = execFileSync('ss', ['-Hltn', `sport = :${result.address.port}`], { encoding: 'utf8' });
      expect(line.trim().split(/\s+/)[2]).toBe('7');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  netnsIt('wrong arguments throw a TypeError before anything is bound', async () => {
    const before = fdCount();
    await expect(safeListen({} as net.Server, { host: '127.0.0.1', port: 0 })).rejects.toThrow(TypeError);
    await expect(
      safeListen(net.createServer(), { host: '127.0.0.1', port: 0, backlog: 1.5 }),
    ).rejects.toThrow(TypeError);
    await expect(
      safeListen(dgram.createSocket('udp4'), { host: '127.0.0.1', port: 0, protocol: 'tcp' }),
    ).rejects.toThrow(TypeError);
    expect(fdCount()).toBe(before);
  });
});
