// No path of the api leaves a descriptor behind: 10,000 calls mixing successes, kernel failures with
// their diagnoses, bad input, wrong types and servers started and stopped.
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect } from 'vitest';
import { preflight } from '../../lib/api/preflight.js';
import { safeBind } from '../../lib/api/safe-bind.js';
import { safeConnect } from '../../lib/api/safe-connect.js';
import { safeListen } from '../../lib/api/safe-listen.js';
import { netnsIt } from '../helpers/netns.js';
import { echoServer, fdCount } from './helpers.js';

const CALLS = 10_000;

async function expectFailure(p: Promise<{ ok: boolean }>): Promise<void> {
  if ((await p).ok) throw new Error('expected a failure');
}

describe('descriptor leaks', () => {
  netnsIt(
    'the descriptor count is unchanged after 10,000 mixed calls',
    async () => {
      const echo = await echoServer(17000);
      // Let the first calls' lazily opened descriptors (netlink, epoll) exist before counting.
      const warm = await safeBind({ host: '127.0.0.1', port: 0 });
      if (warm.ok) warm.socket.close();
      const before = fdCount();
      const outcomes = { ok: 0, failed: 0, thrown: 0 };
      for (let i = 0; i < CALLS; i++) {
        switch (i % 12) {
          case 0:
          case 1:
          case 2: {
            const r = await safeBind({ host: '127.0.0.1', port: 0, reusePort: i % 2 === 0 });
            if (!r.ok) throw new Error(r.diagnosis.summary);
            r.socket.close();
            r.socket.close();
            outcomes.ok++;
            break;
          }
          case 3: {
            const r = await safeBind({ host: '::1', port: 0, protocol: 'udp', ipv6Only: true });
            if (!r.ok) throw new Error(r.diagnosis.summary);
            r.socket.close();
            outcomes.ok++;
            break;
          }
          case 4:
            await expectFailure(safeBind({ host: i % 24 === 4 ? 'bogus' : '127.0.0.1', port: 70000 }));
            outcomes.failed++;
            break;
          case 5:
            await expectFailure(
              safeBind({ host: '10.9.9.9', port: 80, device: i % 24 === 5 ? 'nosuch0' : 'lo' }),
            );
            outcomes.failed++;
            break;
          case 6: {
            const r = await safeConnect({ host: '127.0.0.1', port: 17000, localAddress: '127.0.0.1' });
            if (!r.ok) throw new Error(r.diagnosis.summary);
            r.socket.destroy();
            outcomes.ok++;
            break;
          }
          case 7:
            await expectFailure(safeConnect({ host: '127.0.0.1', port: 17000, localAddress: '10.9.9.9' }));
            outcomes.failed++;
            break;
          case 8:
            await expectFailure(safeConnect({ host: '127.0.0.1', port: 1 }));
            outcomes.failed++;
            break;
          case 9: {
            const server = net.createServer();
            const r = await safeListen(server, { host: '127.0.0.1', port: 0 });
            if (!r.ok) throw new Error(r.diagnosis.summary);
            await new Promise((resolve) => server.close(resolve));
            outcomes.ok++;
            break;
          }
          case 10: {
            const socket = dgram.createSocket('udp4');
            const r = await safeListen(socket, { host: '127.0.0.1', port: 0 });
            if (!r.ok) throw new Error(r.diagnosis.summary);
            await new Promise<void>((resolve) => socket.close(resolve));
            outcomes.ok++;
            break;
          }
          default:
            await safeBind({ host: 42 as unknown as string, port: 0 }).catch((e: unknown) => {
              if (!(e instanceof TypeError)) throw e;
              outcomes.thrown++;
            });
        }
      }
      // The echo server's side of the last connects closes when their FIN arrives.
      await echo.idle();
      expect(outcomes.ok + outcomes.failed + outcomes.thrown).toBe(CALLS);
      expect(outcomes.thrown).toBeGreaterThan(0);
      expect(fdCount()).toBe(before);
    },
    120_000,
  );

  netnsIt('input refused anywhere is refused before the bind: no descriptor or port is left', async () => {
    const warm = await safeBind({ host: '127.0.0.1', port: 0 });
    if (warm.ok) warm.socket.close();
    const before = fdCount();
    const port = 17100;
    // A backlog listen(2) cannot take was found only after the bind: the port stayed bound.
    for (const backlog of [2 ** 31, 2 ** 53, -1, 1.5]) {
      await expect(safeListen(net.createServer(), { host: '127.0.0.1', port, backlog })).rejects.toThrow(
        TypeError,
      );
    }
    // A dgram socket Node will refuse (bound, closed) was found out only after the bind.
    const bound = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => bound.bind(0, '127.0.0.1', resolve));
    const closed = dgram.createSocket('udp4');
    closed.close();
    for (const socket of [bound, closed]) {
      await expect(safeListen(socket, { host: '127.0.0.1', port })).rejects.toThrow(
        /^safeListen\(\): the dgram socket is (already bound|closed)$/,
      );
    }
    await new Promise<void>((resolve) => bound.close(resolve));
    await expectFailure(safeBind({ host: '127.0.0.1', port, device: 'lo\0evil' }));
    await expectFailure(safeListen(dgram.createSocket('udp6'), { host: '127.0.0.1', port }));
    await expectFailure(safeConnect({ host: '127.0.0.1\0', port: 17000, localAddress: '127.0.0.1' }));
    await expectFailure(
      safeConnect({ host: '127.0.0.1', port: 0, localAddress: '127.0.0.1', localPort: port }),
    );
    // A wrong type in any target throws before the first target is bound.
    const first = { host: '127.0.0.1', port, protocol: 'udp' as const };
    await expect(
      preflight({ bind: [first], connect: [{ host: '127.0.0.1', port: 80, probe: 'yes' as never }] }),
    ).rejects.toThrow(TypeError);
    await expect(preflight({ bind: [first, { host: '127.0.0.1', port: '80' as never }] })).rejects.toThrow(
      TypeError,
    );
    expect(fdCount()).toBe(before);
    // The port is free: nothing kept it.
    const again = await safeBind({ host: '127.0.0.1', port });
    if (!again.ok) throw new Error(again.diagnosis.summary);
    again.socket.close();
    expect(fdCount()).toBe(before);
  });
});
