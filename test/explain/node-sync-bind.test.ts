// explain() takes the errors of Node's own synchronous binds, net.BoundSocket and dgram bindSync()
// (Node 24.19+ and 26.4+): they throw at once instead of emitting 'error', with the same code,
// syscall, address and port. The tests of an API are defined only where it exists; one test on every
// line checks that the APIs exist exactly where Node's version says, so coverage cannot vanish
// quietly on a line that should have them.
import dgram from 'node:dgram';
import net from 'node:net';
import { expect, it, onTestFinished } from 'vitest';
import { explain } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { listener, vethPair, type NodeSystemError } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

// @types/node of the oldest supported line has neither API: typed here by what the tests use.
type BoundSocketClass = new (options: { host?: string; port?: number }) => { close(): void };
type BindSync = (options: { address?: string; port?: number }) => unknown;
const BoundSocket = (net as unknown as { BoundSocket?: BoundSocketClass }).BoundSocket;
const bindSync = (dgram.Socket.prototype as unknown as { bindSync?: BindSync }).bindSync;

/** Whether this Node has the synchronous binds: 24.19+ and 26.4+ (undefined for a line not supported). */
function expectedOnThisLine(): boolean | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 24) return false;
  if (major === 24) return minor >= 19;
  if (major === 26) return minor >= 4;
  return major > 26 ? true : undefined;
}
const expected = expectedOnThisLine();

/** What `run` throws; fails the test if it does not throw. */
function thrown(run: () => unknown): NodeSystemError {
  try {
    run();
  } catch (e) {
    return e as NodeSystemError;
  }
  throw new Error('the bind succeeded; the test expected it to fail');
}

eachReader('explain() on the errors of Node’s synchronous binds', () => {
  if (expected !== undefined) {
    it(`Node ${process.version} ${expected ? 'has' : 'lacks'} net.BoundSocket and dgram bindSync(), as its version says`, () => {
      expect(BoundSocket !== undefined).toBe(expected);
      expect(bindSync !== undefined).toBe(expected);
    });
  }

  if (BoundSocket !== undefined)
    netnsIt('new net.BoundSocket() on a VIP that is not attached explains address-not-local', async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      const err = thrown(() => new BoundSocket!({ host: '10.9.0.50', port: 8080 }));
      expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.9.0.50', port: 8080 });

      const d = await explain(err);
      expect(d.cause).toBe('address-not-local');
      expect(d.remediation[1]?.commands).toEqual(['ip addr add 10.9.0.50/24 dev v0']);
    });

  if (BoundSocket !== undefined)
    netnsIt('new net.BoundSocket() on a port a server listens on explains port-in-use', async () => {
      await listener(7310);
      const err = thrown(() => new BoundSocket!({ host: '127.0.0.1', port: 7310 }));
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', port: 7310 });

      const d = await explain(err);
      expect(d.cause).toBe('port-in-use');
      expect(d.evidence['holders']).toEqual([
        expect.objectContaining({ state: 'LISTEN', localPort: 7310, pid: process.pid }),
      ]);
    });

  if (bindSync !== undefined)
    netnsIt('dgram bindSync() of a VIP that is not attached explains address-not-local', async (ns) => {
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
      expect(d.remediation[1]?.commands).toEqual(['ip addr add 10.9.0.51/24 dev v0']);
    });
});
