// explain() takes the errors of Node's own synchronous binds, net.BoundSocket and dgram bindSync()
// (Node 24.19+ and 26.4+): they throw at once instead of emitting 'error', with the same code,
// syscall, address and port. On a line without those APIs the tests skip, saying so: there is
// nothing there to explain.
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, onTestFinished, type TestContext } from 'vitest';
import { explain } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { listener, vethPair, type NodeSystemError } from './helpers.js';

// @types/node of the oldest supported line has neither API: typed here by what the tests use.
type BoundSocketClass = new (options: { host?: string; port?: number }) => { close(): void };
type BindSync = (options: { address?: string; port?: number }) => unknown;
const BoundSocket = (net as unknown as { BoundSocket?: BoundSocketClass }).BoundSocket;
const bindSync = (dgram.Socket.prototype as unknown as { bindSync?: BindSync }).bindSync;

function needs(ctx: TestContext, api: unknown, name: string): void {
  if (api === undefined)
    ctx.skip(`${name} does not exist in Node ${process.version} (added in 24.19.0 and 26.4.0)`);
}

/** What `run` throws; fails the test if it does not throw. */
function thrown(run: () => unknown): NodeSystemError {
  try {
    run();
  } catch (e) {
    return e as NodeSystemError;
  }
  throw new Error('the bind succeeded; the test expected it to fail');
}

describe('explain() on the errors of Node’s synchronous binds', () => {
  netnsIt(
    'new net.BoundSocket() on a VIP that is not attached explains address-not-local',
    async (ns, ctx) => {
      needs(ctx, BoundSocket, 'net.BoundSocket');
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      const err = thrown(() => new BoundSocket!({ host: '10.9.0.50', port: 8080 }));
      expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.9.0.50', port: 8080 });

      const d = await explain(err);
      expect(d.cause).toBe('address-not-local');
      expect(d.remediation[0]?.commands).toEqual(['ip addr add 10.9.0.50/24 dev v0']);
    },
  );

  netnsIt('new net.BoundSocket() on a port a server listens on explains port-in-use', async (_ns, ctx) => {
    needs(ctx, BoundSocket, 'net.BoundSocket');
    await listener(7310);
    const err = thrown(() => new BoundSocket!({ host: '127.0.0.1', port: 7310 }));
    expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', port: 7310 });

    const d = await explain(err);
    expect(d.cause).toBe('port-in-use');
    expect(d.evidence['holders']).toEqual([
      expect.objectContaining({ state: 'LISTEN', localPort: 7310, pid: process.pid }),
    ]);
  });

  netnsIt('dgram bindSync() of a VIP that is not attached explains address-not-local', async (ns, ctx) => {
    needs(ctx, bindSync, 'dgram Socket.bindSync()');
    vethPair(ns, 'v0', 'v1');
    ns.run('ip addr add 10.9.0.1/24 dev v0');
    const socket = dgram.createSocket('udp4');
    onTestFinished(() => {
      socket.close();
    });
    const err = thrown(() => bindSync!.call(socket, { address: '10.9.0.51', port: 5000 }));
    expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.9.0.51', port: 5000 });

    const d = await explain(err, { protocol: 'udp' });
    expect(d.cause).toBe('address-not-local');
    expect(d.remediation[0]?.commands).toEqual(['ip addr add 10.9.0.51/24 dev v0']);
  });
});
