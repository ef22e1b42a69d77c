// What the exporter tests share: the exporter started as a user starts it (the built bin, a child of
// the test, so in the test's namespace), its exposition parsed, and "pods": named namespaces with a
// port range of their own and a process holding connections inside them.
import { execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { onTestFinished } from 'vitest';
import { bin, root } from './cli.js';
import type { Netns } from '../helpers/netns.js';

export interface Exporter {
  pid: number;
  /** host:port it listens on. */
  address: string;
  metrics(): Promise<string>;
}

/**
 * Starts `safebind exporter --listen 127.0.0.1:0 …args`, killed by pid when the test ends. `wrapper`
 * is a command that execs the rest (`setpriv --reuid=…`): the pid is still the exporter's.
 */
export function startExporter(args: string[], wrapper: string[] = []): Promise<Exporter> {
  const command = [...wrapper, process.execPath, bin, 'exporter', '--listen', '127.0.0.1:0', ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`exporter exited ${code}: ${stderr}`)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const m = /listening on http:\/\/([^/\s]+)\/metrics/.exec(stderr);
      if (!m) return;
      const address = m[1]!;
      resolve({
        pid: child.pid!,
        address,
        async metrics() {
          const res = await fetch(`http://${address}/metrics`);
          if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
          return res.text();
        },
      });
    });
  });
}

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of an exposition (label values unescaped), for assertions. */
export function parseExposition(text: string): ParsedSample[] {
  const out: ParsedSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const text = m[3]!;
    out.push({
      name: m[1]!,
      labels,
      value: text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text),
    });
  }
  return out;
}

export interface Pod {
  name: string;
  /** The namespace file, /run/netns/NAME. */
  path: string;
  inode: number;
  /** The process holding the connections. */
  pid: number;
}

/**
 * A named namespace with `ip_local_port_range` = range and a node process inside that listens on
 * 127.0.0.1:7000 and holds `connections` connections to itself (each client socket takes a port of
 * the pool toward 127.0.0.1:7000).
 */
export async function startPod(ns: Netns, range: string, connections: number): Promise<Pod> {
  const name = ns.peer();
  execFileSync('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', `net.ipv4.ip_local_port_range=${range}`]);
  const script = `
    const net = require('node:net');
    const held = [];
    const server = net.createServer((s) => held.push(s)).listen(7000, '127.0.0.1', async () => {
      for (let i = 0; i < ${connections}; i++)
        held.push(await new Promise((ok, ko) => { const c = net.connect(7000, '127.0.0.1', () => ok(c)); c.on('error', ko); }));
      process.stdout.write('ready\\n');
    });`;
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`pod process exited ${code}`)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('ready')) resolve();
    });
  });
  const path = `/run/netns/${name}`;
  return { name, path, inode: statSync(path).ino, pid: child.pid! };
}

/** Polls `probe` every 100 ms until it returns a value, up to `ms`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${String(last)}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
