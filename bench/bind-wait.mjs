#!/usr/bin/env node
// waitForAddress latency: from `ip addr add` to the socket bound, median and max over RUNS runs.
// A long-lived `ip -batch -` child adds each address on a line written to its stdin, so the clock
// starts just before the write, not before a fork and exec; the figure is an upper bound (it
// includes the pipe and ip's own work). Runs itself inside a private network namespace.
//   node bench/bind-wait.mjs [RUNS=20]      (needs `npx tsup` and the addon built)
import { spawn, execFileSync } from 'node:child_process';
import process from 'node:process';
import { log } from 'node:console';
import { setTimeout as delay } from 'node:timers/promises';
import { safeBind } from '../dist/index.js';
import { enterPrivateNetns } from './netns.mjs';

const runs = Number(process.argv[2] ?? 20);

enterPrivateNetns();
execFileSync('ip', ['link', 'add', 'sbb0', 'type', 'veth', 'peer', 'name', 'sbb1']);
execFileSync('ip', ['link', 'set', 'sbb0', 'up']);
execFileSync('ip', ['link', 'set', 'sbb1', 'up']);

const ip = spawn('ip', ['-batch', '-'], { stdio: ['pipe', 'inherit', 'inherit'] });

async function once(host, addCommand) {
  let added = 0n;
  let bound = 0n;
  const pending = safeBind({ host, port: 8080, waitForAddress: 10_000 }).then((r) => {
    bound = process.hrtime.bigint();
    return r;
  });
  // Let safeBind fail once and subscribe before the address arrives, as at a real start-up.
  await delay(30 + Math.random() * 40);
  added = process.hrtime.bigint();
  ip.stdin.write(`${addCommand}\n`);
  const r = await pending;
  if (!r.ok) throw new Error(`${host}: ${r.diagnosis.summary}`);
  r.socket.close();
  return Number(bound - added) / 1e6;
}

function report(name, xs) {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  log(
    `${name.padEnd(44)} median ${median.toFixed(2).padStart(6)} ms   max ${s[s.length - 1].toFixed(2).padStart(6)} ms   (${xs.length} runs)`,
  );
}

const v4 = [];
for (let i = 1; i <= runs; i++) v4.push(await once(`10.123.0.${i}`, `addr add 10.123.0.${i}/32 dev lo`));
const v6 = [];
for (let i = 1; i <= runs; i++)
  v6.push(await once(`fd00:123::${i}`, `addr add fd00:123::${i}/64 dev sbb0 nodad`));
ip.stdin.end();
log(`waitForAddress: from 'ip addr add' to bound`);
report('IPv4 VIP on lo', v4);
report('IPv6 address (nodad) on a veth', v6);
