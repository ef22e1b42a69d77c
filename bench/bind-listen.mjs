#!/usr/bin/env node
// Time to listening: `safeBind` + `server.listen({ fd })` (and `safeListen`) against a plain
// `server.listen(port, host)`, interleaved in one run, as medians and the ratio between them.
// The addon-direct row is the floor of any fd hand-over: what remains above it is safeBind's own cost.
// Runs itself inside a private network namespace.
//   node bench/bind-listen.mjs [ROUNDS=2000]      (needs `npx tsup` and the addon built)
import net from 'node:net';
import process from 'node:process';
import { log } from 'node:console';
import { createRequire } from 'node:module';
import { safeBind, safeListen } from '../dist/index.js';
import { enterPrivateNetns } from './netns.mjs';

// The floor of the fd path: the same three system calls made straight on the addon, no safeBind.
const addon = createRequire(import.meta.url)('../build/Release/safebind.node');
const k = addon.constants;

const rounds = Number(process.argv[2] ?? 2000);

enterPrivateNetns();

const HOST = '127.0.0.1';
const PORT = 18080;

function listening(server, start) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', resolve);
    start();
  });
}

const close = (server) => new Promise((resolve) => server.close(resolve));

const variants = {
  'server.listen(port, host)': async () => {
    const server = net.createServer();
    const t0 = process.hrtime.bigint();
    await listening(server, () => server.listen(PORT, HOST));
    const t = process.hrtime.bigint() - t0;
    await close(server);
    return t;
  },
  'safeBind + server.listen({ fd })': async () => {
    const server = net.createServer();
    const t0 = process.hrtime.bigint();
    const bound = await safeBind({ host: HOST, port: PORT });
    if (!bound.ok) throw new Error(bound.diagnosis.summary);
    await listening(server, () => server.listen({ fd: bound.socket.fd }));
    const t = process.hrtime.bigint() - t0;
    await close(server);
    return t;
  },
  'addon socket+bind + listen({ fd })': async () => {
    const server = net.createServer();
    const t0 = process.hrtime.bigint();
    const fd = addon.socket(k.AF_INET, k.SOCK_STREAM);
    addon.setIntOption(fd, k.SOL_SOCKET, k.SO_REUSEADDR, 1);
    if (addon.bind(fd, { family: k.AF_INET, address: HOST, port: PORT, scopeId: 0 }) < 0)
      throw new Error('bind');
    addon.release(fd); // Node's from here on, as safeListen does
    await listening(server, () => server.listen({ fd }));
    const t = process.hrtime.bigint() - t0;
    await close(server);
    return t;
  },
  'safeListen(server, { host, port })': async () => {
    const server = net.createServer();
    const t0 = process.hrtime.bigint();
    const r = await safeListen(server, { host: HOST, port: PORT });
    if (!r.ok) throw new Error(r.diagnosis.summary);
    const t = process.hrtime.bigint() - t0;
    await close(server);
    return t;
  },
};

const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const names = Object.keys(variants);
for (let i = 0; i < 200; i++) for (const name of names) await variants[name]();
for (let i = 0; i < rounds; i++) {
  // Rotate the order each round so no variant always runs first after a close.
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length];
    samples[name].push(Number(await variants[name]()) / 1000);
  }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const base = pct(samples[names[0]], 50);
log(`time to 'listening' on ${HOST}:${PORT}, ${rounds} rounds each, interleaved (µs)`);
log('variant                               median     p90     p99   ratio(median)');
for (const name of names) {
  const xs = samples[name];
  const med = pct(xs, 50);
  log(
    `${name.padEnd(36)} ${med.toFixed(1).padStart(7)} ${pct(xs, 90).toFixed(1).padStart(7)} ${pct(xs, 99)
      .toFixed(1)
      .padStart(7)}   ${(med / base).toFixed(2)}×`,
  );
}
