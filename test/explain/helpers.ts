// Shared by the explain() tests: make a real failure with Node's own APIs or lib/sys, and build the
// links (veth pairs) the causes need inside the test's namespace.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { onTestFinished } from 'vitest';
import type { Netns } from '../helpers/netns.js';
import type { Diagnosis } from '../../lib/types.js';

/** A Node system error as net, http and dgram emit it: ErrnoException plus the address and port. */
export type NodeSystemError = NodeJS.ErrnoException & { address?: string; port?: number };

/** The error a net/http server emits when listen() fails (the server is closed again after). */
export async function listenError(
  server: net.Server | http.Server,
  port: number,
  host: string,
): Promise<NodeSystemError> {
  return new Promise((resolve, reject) => {
    server.once('error', (e) => resolve(e as NodeSystemError));
    server.listen(port, host, () => {
      server.close();
      reject(new Error(`listen ${host}:${port} succeeded; the test expected it to fail`));
    });
  });
}

/** The error dgram bind() emits. */
export async function dgramBindError(
  type: 'udp4' | 'udp6',
  port: number,
  host: string,
): Promise<NodeSystemError> {
  const socket = dgram.createSocket(type);
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => {
      socket.close();
      resolve(e as NodeSystemError);
    });
    socket.bind(port, host, () => {
      socket.close();
      reject(new Error(`dgram bind ${host}:${port} succeeded; the test expected it to fail`));
    });
  });
}

/** The error net.connect emits (the socket is destroyed); rejects if it connects. */
export async function connectError(options: net.NetConnectOpts): Promise<NodeSystemError> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options);
    socket.once('error', (e) => {
      socket.destroy();
      resolve(e as NodeSystemError);
    });
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error('connect succeeded; the test expected it to fail'));
    });
  });
}

/** A TCP listener on host:port that accepts and keeps connections; closed when the test ends. */
export async function listener(port: number, host = '127.0.0.1'): Promise<net.Server> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => {});
    accepted.push(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, resolve);
  });
  onTestFinished(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
  return server;
}

/** One connection that completes; destroyed when the test ends. */
export async function connected(options: net.NetConnectOpts): Promise<net.Socket> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(options, () => resolve(s));
    s.once('error', reject);
  });
  onTestFinished(() => {
    socket.destroy();
  });
  return socket;
}

/**
 * A veth pair `name`/`peer` (both up unless told otherwise). This kernel has no `dummy` links, and a
 * veth carries carrier only while both ends are up.
 */
export function vethPair(ns: Netns, name: string, peer: string, opts: { peerUp?: boolean } = {}): void {
  ns.run(`ip link add ${name} type veth peer name ${peer}`);
  ns.run(`ip link set ${name} up`);
  if (opts.peerUp !== false) ns.run(`ip link set ${peer} up`);
}

/** Every command of every remediation, in order. */
export function commands(d: Diagnosis): string[] {
  return d.remediation.flatMap((r) => r.commands ?? []);
}

/** Every code option of every remediation, in order. */
export function options(d: Diagnosis): string[] {
  return d.remediation.flatMap((r) => (r.option !== undefined ? [r.option] : []));
}

/** `ip -j addr show` flags of one address, as `ip` prints them (tentative, dadfailed, …). */
export function ipFlags(ns: Netns, address: string): string[] {
  const links = JSON.parse(ns.run('ip -j addr show')) as Array<{
    addr_info?: Array<Record<string, unknown>>;
  }>;
  for (const link of links) {
    for (const info of link.addr_info ?? []) {
      if (info['local'] === address) {
        return Object.entries(info)
          .filter(([, v]) => v === true)
          .map(([k]) => k);
      }
    }
  }
  return [];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
