#!/usr/bin/env node
// Requests per second through safebind/agent against the same client without it, side by side in
// interleaved rounds, in a private namespace: Node's http.Agent and undici's Agent, each with one new
// connection per request and with keep-alive, toward an http server in a child process on loopback.
// The agent connects from two sources (127.0.0.2, 127.0.0.3) with IP_BIND_ADDRESS_NO_PORT.
// Prints each round and the median ratio agent / plain per variant, and the requests per connection
// the server counted for each side, so a variant measures what its name says: 'new connection per
// request' is an Agent without keep-alive and without a socket limit (Node then sends
// `Connection: close` and never reuses a socket), and undici with `reset: true`.
// Also the CPU time per request (user + system, of this client process and of the server's), whose
// ratio does not move with the share of the two cores other tenants take, as the rate does. The
// http.Agent variants also run a third side, 'bare': an http.Agent whose createConnection makes the
// agent's socket with the addon alone (socket, IP_BIND_ADDRESS_NO_PORT, bind, new net.Socket({ fd }),
// connect), none of safebind/agent's JavaScript: the ceiling Node's public API leaves the agent.
//   node bench/agent-throughput.mjs [SECONDS=1.5] [ROUNDS=5] [CONCURRENCY=8] [VARIANT]   (needs `npm run build:ts`)
import { spawn } from 'node:child_process';
import http from 'node:http';
import { log } from 'node:console';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { enterPrivateNetns } from './netns.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.argv[2] ?? 1.5);
const rounds = Number(process.argv[3] ?? 5);
const concurrency = Number(process.argv[4] ?? 8);
// An optional fifth argument keeps only the variants whose name contains it ('new connection').
const only = process.argv[5];
const PORT = 18080;
const SOURCES = ['127.0.0.2', '127.0.0.3'];

enterPrivateNetns();
const { createAgent, createDispatcher } = await import(
  pathToFileURL(join(here, '..', 'dist', 'agent.js')).href
);

const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'safebind.node'));
const { AF_INET, SOCK_STREAM, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT } = addon.constants;

/** The bare side: the agent's descriptor path with none of its bookkeeping (no pool, no retry). */
class BareAgent extends http.Agent {
  #next = 0;
  createConnection(options, done) {
    const fd = addon.socket(AF_INET, SOCK_STREAM);
    const source = SOURCES[this.#next++ % SOURCES.length];
    const failed =
      addon.setIntOption(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) < 0 ||
      addon.bind(fd, { family: AF_INET, address: source, port: 0, scopeId: 0 }) < 0;
    if (failed) {
      addon.close(fd);
      throw new Error(`bare hand-off: cannot bind ${source}`);
    }
    addon.release(fd); // Node's from here on, as connect-fd.ts does
    const socket = new net.Socket({ fd, readable: true, writable: true });
    socket.setNoDelay(true);
    socket.connect({ host: options.host, port: options.port });
    socket.once('connect', () => done(null, socket));
  }
}

const server = spawn(
  process.execPath,
  [
    '-e',
    `let c = 0;
     const s = require('node:http').createServer((q, r) => { r.setHeader('x-connections', c); r.end('ok'); });
     s.on('connection', () => c++);
     s.keepAliveTimeout = 60000; s.listen(${PORT}, '127.0.0.1', () => console.log('ready'));`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise((resolve) => server.stdout.on('data', (d) => d.toString().includes('ready') && resolve()));

function httpGet(agent) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: PORT, path: '/', agent }, (res) => {
        connections = Number(res.headers['x-connections']);
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

async function undiciGet(dispatcher, reset) {
  const r = await request(`http://127.0.0.1:${PORT}/`, { dispatcher, reset });
  connections = Number(r.headers['x-connections']);
  await r.body.text();
}

/** CPU milliseconds (user + system) the server process has used, from /proc (clock ticks of 10 ms). */
function serverCpuMs() {
  const stat = readFileSync(`/proc/${server.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14 and 15)
}

/** The server's count of connections accepted, as of the last response. */
let connections = 0;
let requests = 0;

/**
 * Requests completed per second by `concurrency` loops for `seconds`, and the CPU microseconds per
 * request of this process and of the server.
 */
async function rate(one) {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const cpu = process.cpuUsage();
  const serverCpu = serverCpuMs();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await one();
        done++;
        requests++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    perSecond: done / seconds,
    clientUs: (used.user + used.system) / done,
    serverUs: ((serverCpuMs() - serverCpu) * 1000) / done,
  };
}

const variants = {
  'http.Agent, new connection per request': {
    // No maxSockets: with one, Node's Agent would reuse a socket for a waiting request.
    plain: () => new http.Agent({ keepAlive: false }),
    agent: () => createAgent({ sources: SOURCES, keepAlive: false }),
    bare: () => new BareAgent({ keepAlive: false }),
    get: (a) => () => httpGet(a),
  },
  'http.Agent, keep-alive': {
    plain: () => new http.Agent({ keepAlive: true, maxSockets: concurrency }),
    agent: () => createAgent({ sources: SOURCES, keepAlive: true, maxSockets: concurrency }),
    get: (a) => () => httpGet(a),
  },
  'undici, new connection per request': {
    plain: () => new Agent({ connections: concurrency }),
    agent: () => createDispatcher({ sources: SOURCES, connections: concurrency }),
    get: (d) => () => undiciGet(d, true),
  },
  'undici, keep-alive': {
    plain: () => new Agent({ connections: concurrency }),
    agent: () => createDispatcher({ sources: SOURCES, connections: concurrency }),
    get: (d) => () => undiciGet(d, false),
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${rounds} rounds × ${seconds} s, concurrency ${concurrency}`,
);
const summary = [];
for (const [name, v] of Object.entries(variants).filter(([n]) => only === undefined || n.includes(only))) {
  const ratios = [];
  const plainRates = [];
  const agentRates = [];
  // Plain CPU per request over the agent's: the rate ratio the CPU time alone would give.
  const clientCpuRatios = [];
  const bothCpuRatios = [];
  const bareRatios = [];
  const bareCpuRatios = [];
  for (let r = 0; r < rounds; r++) {
    // Interleaved, and the order flips each round so neither side always runs second.
    const sides = (r % 2 === 0 ? ['plain', 'agent', 'bare'] : ['bare', 'agent', 'plain']).filter(
      (side) => v[side],
    );
    const got = {};
    const perConnection = {};
    for (const side of sides) {
      const a = v[side]();
      const [c0, r0] = [connections, requests];
      got[side] = await rate(v.get(a));
      perConnection[side] = (requests - r0) / Math.max(1, connections - c0);
      await (a.close ? a.close() : a.destroy());
    }
    const { plain, agent, bare } = got;
    if (bare) {
      bareRatios.push(bare.perSecond / plain.perSecond);
      bareCpuRatios.push(plain.clientUs / bare.clientUs);
      log(
        `${name} round ${r + 1}: bare hand-off ${bare.perSecond.toFixed(0)}/s, ratio ${(bare.perSecond / plain.perSecond).toFixed(3)}; CPU µs per request ${bare.clientUs.toFixed(1)} + ${bare.serverUs.toFixed(1)}`,
      );
    }
    plainRates.push(plain.perSecond);
    agentRates.push(agent.perSecond);
    ratios.push(agent.perSecond / plain.perSecond);
    clientCpuRatios.push(plain.clientUs / agent.clientUs);
    bothCpuRatios.push((plain.clientUs + plain.serverUs) / (agent.clientUs + agent.serverUs));
    log(
      `${name} round ${r + 1}: plain ${plain.perSecond.toFixed(0)}/s, agent ${agent.perSecond.toFixed(0)}/s, ratio ${(agent.perSecond / plain.perSecond).toFixed(3)}; ` +
        `CPU µs per request (client + server): plain ${plain.clientUs.toFixed(1)} + ${plain.serverUs.toFixed(1)}, agent ${agent.clientUs.toFixed(1)} + ${agent.serverUs.toFixed(1)}; ` +
        `requests per connection: plain ${perConnection.plain.toFixed(1)}, agent ${perConnection.agent.toFixed(1)}`,
    );
  }
  summary.push([
    name,
    median(plainRates),
    median(agentRates),
    median(ratios),
    median(clientCpuRatios),
    median(bothCpuRatios),
  ]);
  if (bareRatios.length > 0)
    summary.push([`${name}: bare`, median(plainRates), NaN, median(bareRatios), median(bareCpuRatios), NaN]);
}
log(
  '\nmedian per variant: plain req/s, agent req/s, agent / plain; plain / agent CPU per request: client, client + server',
);
for (const [name, p, a, ratio, clientCpu, bothCpu] of summary)
  log(
    `  ${name.padEnd(42)} ${p.toFixed(0).padStart(7)} ${a.toFixed(0).padStart(7)}  ${ratio.toFixed(3)}  ${clientCpu.toFixed(3)}  ${bothCpu.toFixed(3)}`,
  );
log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
server.kill();
