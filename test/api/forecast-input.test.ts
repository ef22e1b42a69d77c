// forecast()'s input: bad values reject with a typed PortUsageError before anything is read, a signal
// aborts the wait between the two readings, and a UDP destination has no TIME_WAIT hold.
import dgram from 'node:dgram';
import { expect } from 'vitest';
import { AbortError, forecast, PortUsageError } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';

netnsIt('bad values are typed failures, an abort rejects with AbortError', async () => {
  await expect(forecast({ host: '127.0.0.1', port: 70000 })).rejects.toMatchObject({
    name: 'PortUsageError',
    code: 'invalid-address',
  });
  await expect(forecast({ host: 'not an address!', port: 80 })).rejects.toBeInstanceOf(PortUsageError);
  await expect(forecast({ host: '127.0.0.1', port: 80, sampleMs: 10 })).rejects.toMatchObject({
    code: 'invalid-argument',
    message: 'sampleMs must be between 50 and 60000, got 10',
  });
  const controller = new AbortController();
  const pending = forecast({ host: '127.0.0.1', port: 80, sampleMs: 5000, signal: controller.signal });
  controller.abort();
  await expect(pending).rejects.toBeInstanceOf(AbortError);
});

netnsIt('UDP: new connected sockets are counted, and nothing is held after close', async () => {
  const server = dgram.createSocket('udp4');
  await new Promise<void>((ok) => server.bind(39600, '127.0.0.1', ok));
  const clients: dgram.Socket[] = [];
  const pending = forecast({ host: '127.0.0.1', port: 39600, protocol: 'udp', sampleMs: 300 });
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 5; i++) {
    const c = dgram.createSocket('udp4');
    await new Promise<void>((ok) => c.connect(39600, '127.0.0.1', ok));
    clients.push(c);
  }
  const f = await pending;
  for (const c of clients) c.close();
  server.close();
  expect(f.newConnections).toBe(5);
  expect(f.timeWait).toMatchObject({ lifetimeMs: 0, holdMs: 0, count: 0 });
  expect(f.notTimeWait).toBe(5);
  expect(f.steadyState).toBe(5);
  expect(f.unknown).toBe('steady-state-fits');
});
