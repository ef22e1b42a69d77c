// What safebind/register costs while nothing fails (issue 14): an http server and an undici client in
// one process, the client (a) on keep-alive connections and (b) on a new connection per request
// (`connection: close`), with the hook on and off.
//
// safebind/register is watchErrors() with a stderr printer (lib/register.ts), and its cost while
// nothing fails is the hooks that watchErrors() installs: the diagnostics_channel subscriptions and
// an errorMonitor listener per new socket. So one process measures both sides: the load runs without
// a pause while the hook is switched on (watchErrors from dist/, printing to stderr as register does)
// and off (its stop function) every slice of SLICE ms, in alternating order, so the machine's load
// (2 cores shared with other work) falls on both alike. The figure is the ratio of the medians of
// requests per second of the slices, on / off, and the median of the ratios of adjacent on/off
// slices; the aim is ≥ 0.98×. The process's CPU time per request (process.cpuUsage) is given beside
// it: on a loaded machine it moves less than the rate does, since time spent waiting for a core is
// not in it. A third variant, off again ("A/A"), is measured the same way: its ratio
// to off is the noise floor of the run, so a figure below 1 can be told from the machine's noise.
//
//   npx tsup && node bench/register-overhead.mjs [SLICES=40] [SLICE_MS=500]
//
// Runs in a private network namespace (bench/netns.mjs), so the TIME_WAIT sockets of the
// per-request connections stay out of the host's tables.
import { log } from 'node:console';
import http from 'node:http';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { enterPrivateNetns } from './netns.mjs';

enterPrivateNetns();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { watchErrors } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);

const slices = Number(process.argv[2] ?? 40);
const sliceMs = Number(process.argv[3] ?? 500);
const CONCURRENCY = 16;

const server = http.createServer((_req, res) => res.end('ok'));
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Requests for `ms`, CONCURRENCY at a time, through `agent`: requests per second and CPU µs per request. */
async function slice(agent, headers, ms) {
  const cpu = process.cpuUsage();
  let count = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const { body } = await request(url, { dispatcher: agent, headers });
      await body.dump();
      count++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(cpu);
  return { rate: count / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / count };
}

let printed = 0;
const hookOn = () =>
  watchErrors({
    onDiagnosis(d) {
      printed++;
      process.stderr.write(`safebind: ${d.cause} ${d.summary}\n`);
    },
  });

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
log(
  `Node ${process.version}, ${slices} slices of ${sliceMs} ms per variant, alternating; load average ${load()}`,
);
log(
  '| client | off (req/s, median) | on (req/s, median) | rate on/off (medians) | rate on/off (median of adjacent pairs) | A/A rate: off again / off | CPU µs/request off | CPU µs/request on | CPU off/on | A/A CPU |',
);
log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const mode of ['keep-alive', 'close']) {
  const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 });
  const headers = mode === 'close' ? { connection: 'close' } : {};
  await slice(agent, headers, 1000); // warm-up: JIT, connections
  const rates = { off: [], on: [], again: [] };
  const orders = [
    ['off', 'on', 'again'],
    ['on', 'again', 'off'],
    ['again', 'off', 'on'],
  ];
  for (let i = 0; i < slices; i++) {
    for (const variant of orders[i % 3]) {
      const stop = variant === 'on' ? hookOn() : undefined;
      rates[variant].push(await slice(agent, headers, sliceMs));
      stop?.();
    }
  }
  const rate = (v) => rates[v].map((r) => r.rate);
  const cpu = (v) => median(rates[v].map((r) => r.cpuUs));
  const [off, on, again] = [rate('off'), rate('on'), rate('again')];
  const pairs = on.map((r, i) => r / off[i]);
  await agent.close();
  const label = mode === 'close' ? 'undici, a connection per request' : 'undici, keep-alive';
  log(
    `| ${label} | ${median(off).toFixed(0)} | ${median(on).toFixed(0)} | ${(median(on) / median(off)).toFixed(3)}× | ${median(pairs).toFixed(3)}× | ${(median(again) / median(off)).toFixed(3)}× | ${cpu('off').toFixed(1)} | ${cpu('on').toFixed(1)} | ${(cpu('off') / cpu('on')).toFixed(3)}× | ${(cpu('off') / cpu('again')).toFixed(3)}× |`,
  );
}
// The hook's own work per connection, measured where it happens: net.connect() publishes on
// net.client.socket synchronously, and the subscriber adds the errorMonitor listener there, so the
// synchronous time of net.connect() (to the server above, each socket destroyed at once) on minus off
// is what the hook adds to a connection. Batches of 50 calls alternate on and off; medians per call.
const net = await import('node:net');
const port = server.address().port;
const perCall = { off: [], on: [] };
for (let i = 0; i < 400; i++) {
  for (const variant of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
    const stop = variant === 'on' ? hookOn() : undefined;
    const sockets = [];
    const t0 = performance.now();
    for (let j = 0; j < 50; j++) sockets.push(net.connect(port, '127.0.0.1'));
    perCall[variant].push(((performance.now() - t0) * 1000) / 50);
    stop?.();
    for (const s of sockets) s.destroy();
    await new Promise((ok) => setImmediate(ok));
  }
}
const added = median(perCall.on) - median(perCall.off);
log(
  `\nnet.connect() synchronous time per call (400 batches of 50 each, medians): off ${median(perCall.off).toFixed(2)} µs, on ${median(perCall.on).toFixed(2)} µs: the hook adds ${added.toFixed(2)} µs per new connection`,
);
log(`load average after: ${load()}; reports printed while nothing failed: ${printed}`);
server.close();
if (printed !== 0) process.exitCode = 1;
