#!/usr/bin/env node
// Issue 18: the cost of running without the addon. The same api calls through the addon's host
// reader (netlink, sock_diag, the addon's sockets) and through the no-addon one (/proc,
// os.networkInterfaces(), Node's sockets), in one process, interleaved round by round: the package
// is imported twice, the second copy with SAFEBIND_ADDON=none (a separate module instance, so each
// keeps its own choice). Reports medians and the ratio no-addon / addon, with the load average.
// Runs itself inside a private network namespace (host untouched).
//   node bench/no-addon.mjs [ROUNDS=40]     (needs `npx tsup` (or SAFEBIND_DIST=dir) and the addon)
import { execFileSync } from 'node:child_process';
import { log } from 'node:console';
import net from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { enterPrivateNetns } from './netns.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[2] ?? 40);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 500);

enterPrivateNetns();
for (const cmd of [
  'ip link add nb0 type veth peer name nb1',
  'ip link set nb0 up',
  'ip link set nb1 up',
  'ip addr add 10.61.0.1/24 dev nb0',
  'ip addr add fd00:61::1/64 dev nb0 nodad',
])
  execFileSync(cmd.split(' ')[0], cmd.split(' ').slice(1));

const entry = pathToFileURL(
  join(resolve(process.env.SAFEBIND_DIST ?? join(here, '..', 'dist')), 'index.js'),
).href;
const addon = await import(entry);
await addon.inspectHost(); // loads the addon in this copy
process.env.SAFEBIND_ADDON = 'none';
const noAddon = await import(`${entry}?no-addon`);
await noAddon.inspectHost(); // this copy's loader keeps "none"
delete process.env.SAFEBIND_ADDON;
// Each copy reads the way it should, or the comparison means nothing.
if ((await addon.inspectHost()).notRead?.addon !== undefined)
  throw new Error('the addon copy runs without it');
if ((await noAddon.inspectHost()).notRead?.addon === undefined)
  throw new Error('the no-addon copy loaded it');

const server = net.createServer((s) => s.on('error', () => {}));
await new Promise((ok) => server.listen(9100, '127.0.0.1', ok));
const clients = [];
for (let i = 0; i < CONNECTIONS; i++)
  clients.push(
    await new Promise((ok) => {
      const c = net.connect(9100, '127.0.0.1', () => ok(c));
    }),
  );
const inUse = await new Promise((ok) => {
  const other = net.createServer();
  other.once('error', ok);
  other.listen(9100, '127.0.0.1');
});

const calls = {
  'inspectHost()': (api) => api.inspectHost(),
  'portUsage(127.0.0.1:9100)': (api) => api.portUsage({ host: '127.0.0.1', port: 9100 }),
  'explain(listen EADDRINUSE)': (api) => api.explain(inUse),
  'preflight(bind + connect)': (api) =>
    api.preflight({ bind: ['127.0.0.1:0', '10.61.0.1:0'], connect: ['127.0.0.1:9100', '10.61.0.2:80'] }),
};
const times = Object.fromEntries(Object.keys(calls).map((k) => [k, { addon: [], noAddon: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const [name, call] of Object.entries(calls)) {
    for (const [which, api] of r % 2 === 0
      ? [
          ['addon', addon],
          ['noAddon', noAddon],
        ]
      : [
          ['noAddon', noAddon],
          ['addon', addon],
        ]) {
      const t = performance.now();
      await call(api);
      times[name][which].push(performance.now() - t);
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
log(
  `${rounds} interleaved rounds, ${CONNECTIONS} loopback connections, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
log('| call | addon (ms) | no addon (ms) | no addon / addon |');
log('| --- | ---: | ---: | ---: |');
for (const [name, t] of Object.entries(times)) {
  const a = median(t.addon);
  const b = median(t.noAddon);
  log(`| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b / a).toFixed(2)} |`);
}
for (const c of clients) c.destroy();
server.close();
