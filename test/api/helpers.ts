// Shared by the api tests: descriptor counts, a loopback echo server, and small waits.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { onTestFinished } from 'vitest';

/** Open descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP server that echoes what it receives, closed when the test ends. */
export async function echoServer(port: number, host = '127.0.0.1'): Promise<net.Server> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, resolve);
  });
  onTestFinished(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return server;
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
