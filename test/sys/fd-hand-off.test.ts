// A descriptor from lib/sys works inside Node: `server.listen({ fd })` serves HTTP on a freebind
// socket whose address arrived after listen, dgram `bind({ fd })` receives, and
// `new net.Socket({ fd }).connect()` exchanges data from the source address the addon bound.
import dgram from 'node:dgram';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { describe, expect } from 'vitest';
import type { Family, Result } from '../../lib/types.js';
import {
  bind,
  localAddress,
  newSocket,
  releaseSocket,
  setBindAddressNoPort,
  setFreebind,
  setIpv6Only,
} from '../../lib/sys/index.js';
import { localRouteOf, netnsIt } from '../helpers/netns.js';

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function connectError(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code));
  });
}

const cases = [
  {
    family: 4 as Family,
    address: '10.1.0.5',
    attach: 'ip addr add 10.1.0.5/24 dev lo',
    url: 'http://10.1.0.5',
  },
  {
    family: 6 as Family,
    address: 'fd00::5',
    attach: 'ip addr add fd00::5/64 dev lo nodad',
    url: 'http://[fd00::5]',
  },
];

describe.each(cases)('hand-off of an IPv$family descriptor', ({ family, address, attach, url }) => {
  netnsIt('an HTTP server listens on a freebind fd and answers once the address is attached', async (ns) => {
    const fd = value(newSocket(family, 'tcp'));
    value(setFreebind(fd, family, true));
    value(bind(fd, { address, port: 8080, family }));

    const server = http.createServer((_req, res) => res.end('served by a safebind fd'));
    releaseSocket(fd); // Node's from here on
    server.listen({ fd });
    await once(server, 'listening');
    try {
      // Not reachable yet: the address is on no interface, so the test below proves the late attach.
      expect(await connectError(address, 8080)).toBe('ENETUNREACH');
      ns.run(attach);
      await localRouteOf(address);
      expect(await get(`${url}:8080/`)).toEqual({ status: 200, body: 'served by a safebind fd' });
      expect(server.address()).toMatchObject({ address, port: 8080 });
    } finally {
      server.close();
    }
  });

  netnsIt('a dgram socket bound to the fd receives a datagram', async () => {
    const loopback = family === 4 ? '127.0.0.1' : '::1';
    const fd = value(newSocket(family, 'udp'));
    value(bind(fd, { address: loopback, port: 0, family }));
    const port = value(localAddress(fd)).port;

    const receiver = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    // dgram emits 'listening' synchronously inside bind({ fd }): subscribe first.
    const listening = once(receiver, 'listening');
    releaseSocket(fd);
    receiver.bind({ fd });
    await listening;
    const sender = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    try {
      const received = once(receiver, 'message') as Promise<[Buffer, dgram.RemoteInfo]>;
      sender.send('hello over a safebind fd', port, loopback);
      const [msg] = await received;
      expect(msg.toString()).toBe('hello over a safebind fd');
      expect(receiver.address().port).toBe(port);
    } finally {
      receiver.close();
      sender.close();
    }
  });

  netnsIt(
    'net.Socket({ fd }).connect() exchanges data from the source address bound natively',
    async (ns) => {
      const source = family === 4 ? '127.0.0.2' : 'fd00::77';
      if (family === 6) {
        ns.run('ip addr add fd00::77/128 dev lo nodad');
        await localRouteOf(source); // the server's answer goes to it
      }
      const loopback = family === 4 ? '127.0.0.1' : '::1';
      const server = net.createServer((s) => {
        s.end(`you are ${s.remoteAddress}`);
      });
      server.listen(0, loopback);
      await once(server, 'listening');
      const { port } = server.address() as net.AddressInfo;

      const fd = value(newSocket(family, 'tcp'));
      value(setBindAddressNoPort(fd, true));
      if (family === 6) value(setIpv6Only(fd, true));
      value(bind(fd, { address: source, port: 0, family }));
      releaseSocket(fd);
      const client = new net.Socket({ fd });
      try {
        client.connect(port, loopback);
        let reply = '';
        client.setEncoding('utf8');
        client.on('data', (chunk: string) => (reply += chunk));
        await once(client, 'end');
        expect(reply).toBe(`you are ${source}`);
      } finally {
        client.destroy();
        server.close();
      }
    },
  );
});
