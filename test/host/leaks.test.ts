// Every reader, failing ones included, leaves the descriptor count where it found it.
import { describe, expect } from 'vitest';
import { readAddresses } from '../../lib/host/addresses.js';
import { readNeighbours } from '../../lib/host/neighbours.js';
import { findPortHolders } from '../../lib/host/holders.js';
import { readPortUsage } from '../../lib/host/port-usage.js';
import { lookupRoute } from '../../lib/host/route.js';
import { countSockets, listSockets } from '../../lib/host/sockets.js';
import { readNetSysctls } from '../../lib/host/sysctls.js';
import { watchAddresses } from '../../lib/host/watch.js';
import { netnsIt } from '../helpers/netns.js';
import { fdCount, listen } from './tables.js';

const N = 2000;

describe('descriptor leaks', () => {
  netnsIt(
    `${N} iterations of each reader, failures included, leave /proc/self/fd unchanged`,
    async () => {
      const server = await listen(7200);
      const before = fdCount();
      const readers: Array<[string, () => unknown]> = [
        ['readAddresses', () => readAddresses()],
        ['countSockets', () => countSockets({ remote: { address: '127.0.0.1', port: 7200 } })],
        ['listSockets', () => listSockets({}, 10)],
        ['readPortUsage', () => readPortUsage({ host: '127.0.0.1', port: 7200 })],
        ['readPortUsage invalid', () => readPortUsage({ host: 'nope', port: 7200 })],
        ['lookupRoute', () => lookupRoute('127.0.0.1')],
        ['lookupRoute to nowhere', () => lookupRoute('192.0.2.1')],
        ['lookupRoute unknown device', () => lookupRoute('127.0.0.1', { device: 'nosuch0' })],
        ['readNetSysctls', () => readNetSysctls()],
        ['readNeighbours', () => readNeighbours()],
        ['findPortHolders', () => findPortHolders({ protocol: 'tcp', port: 7200 })],
        [
          'watchAddresses',
          () => {
            const w = watchAddresses(() => {});
            if (w.ok) w.value.close();
          },
        ],
      ];
      for (const [name, read] of readers) {
        const iterations = name === 'findPortHolders' || name === 'readNetSysctls' ? N / 4 : N;
        for (let i = 0; i < iterations; i++) read();
        await new Promise((r) => setImmediate(r));
        expect(fdCount(), name).toBe(before);
      }
      expect(lookupRoute('192.0.2.1')).toMatchObject({ ok: false, code: 'ENETUNREACH' });
      server.close();
    },
    120_000,
  );
});
