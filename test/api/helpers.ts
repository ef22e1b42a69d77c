// Shared by the api tests: descriptor counts, a loopback echo server, and small waits.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { onTestFinished } from 'vitest';

/** Open descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP server whose `idle()` resolves once every connection it accepted has closed. */
export type EchoServer = net.Server & { idle(): Promise<void> };

/** A TCP server that echoes what it receives, closed when the test ends. */
export async function echoServer(port: number, host = '127.0.0.1'): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  let waiters: Array<() => void> = [];
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      if (sockets.size > 0) return;
      for (const wake of waiters) wake();
      waiters = [];
    });
    s.on('data', (d) => s.write(d));
  });
  const idle = () =>
    sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, resolve);
  });
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return Object.assign(server, { idle });
}

/** Writes `text` and resolves the first chunk read back. */
export async function roundTrip(socket: net.Socket, text: string): Promise<string> {
  const reply = new Promise<string>((resolve, reject) => {
    socket.once('data', (d) => resolve(d.toString()));
    socket.once('error', reject);
  });
  socket.write(text);
  return reply;
}
