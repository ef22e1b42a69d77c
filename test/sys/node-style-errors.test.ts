// lib/sys failures read exactly like the errors Node itself raises for the same failed call
// (ExceptionWithHostPort): same code, errno, syscall, address, port and message.
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  bind,
  closeSocket,
  isUnsupported,
  newSocket,
  socketError,
  unsupportedError,
} from '../../lib/sys/index.js';
import type { Family } from '../../lib/types.js';
import { netnsIt } from '../helpers/netns.js';

function ours(family: Family, protocol: 'tcp' | 'udp', address: string, port: number) {
  const fd = newSocket(family, protocol);
  if (!fd.ok) throw new Error(fd.error.message);
  const r = bind(fd.value, { address, port, family });
  closeSocket(fd.value);
  if (r.ok) throw new Error('expected bind to fail');
  return r.error;
}

async function nodeDgramBindError(family: Family, address: string, port: number) {
  const s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  const error = once(s, 'error') as Promise<[NodeJS.ErrnoException & { address?: string; port?: number }]>;
  s.bind(port, address);
  const [e] = await error;
  s.close();
  return e;
}

describe.each([
  [4, '10.0.0.50', 8080],
  [6, 'fd00::50', 443],
] as const)('a failed bind of IPv%i %s:%i', (family, address, port) => {
  netnsIt('has the message, code and errno Node gives the same dgram bind', async () => {
    const node = await nodeDgramBindError(family, address, port);
    const mine = ours(family, 'udp', address, port);
    expect(mine.message).toBe(node.message);
    expect(mine.code).toBe(node.code);
    expect(mine.errno).toBe(-(node.errno ?? 0));
    expect(mine.syscall).toBe(node.syscall);
    expect(mine.address).toBe(node.address);
    expect(mine.port).toBe(node.port);
  });
});

describe('a failed bind to port 0', () => {
  netnsIt(
    'prints no port, as Node does for net.connect({ localAddress }), but keeps port: 0 as data',
    async () => {
      const listener = net.createServer().listen(0, '127.0.0.1');
      await once(listener, 'listening');
      const { port } = listener.address() as net.AddressInfo;
      const client = net.connect({ host: '127.0.0.1', port, localAddress: '10.0.0.50' });
      const [node] = (await once(client, 'error')) as [NodeJS.ErrnoException];
      listener.close();
      const mine = ours(4, 'tcp', '10.0.0.50', 0);
      expect(node.message).toBe('bind EADDRNOTAVAIL 10.0.0.50');
      expect(mine.message).toBe(node.message);
      expect(mine.port).toBe(0);
    },
  );
});

describe('socketError', () => {
  it('takes errno of either sign and names it', () => {
    expect(socketError('connect', -111, { address: '127.0.0.1', port: 9 })).toEqual({
      syscall: 'connect',
      errno: 111,
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:9',
      address: '127.0.0.1',
      port: 9,
    });
    expect(socketError('setsockopt', 92, { detail: 'IP_LOCAL_PORT_RANGE' })).toEqual({
      syscall: 'setsockopt',
      errno: 92,
      code: 'ENOPROTOOPT',
      message: 'setsockopt ENOPROTOOPT IP_LOCAL_PORT_RANGE',
    });
  });

  it('keeps an errno Node has no name for visible', () => {
    expect(socketError('bind', 0).code).toBe('Unknown system error 0');
  });

  it('describes an unavailable addon as ENOTSUP from syscall "safebind" with the reason', () => {
    const e = unsupportedError('safebind supports Linux only; this is darwin');
    expect(e).toEqual({
      syscall: 'safebind',
      errno: 95,
      code: 'ENOTSUP',
      message: 'safebind ENOTSUP: safebind supports Linux only; this is darwin',
    });
    expect(isUnsupported(e)).toBe(true);
    expect(isUnsupported(socketError('setsockopt', 95))).toBe(false);
  });
});
