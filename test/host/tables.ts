// Builds real socket tables for the host-reader tests: loopback listeners, established clients, and
// TIME_WAIT sockets left by clients that closed first. Everything stays on loopback in the test's
// own namespace.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';

export async function listen(port: number, host = '127.0.0.1'): Promise<net.Server> {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, resolve);
  });
  return server;
}

export async function connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
    s.once('error', reject);
  });
}

/** n connections to host:port that the client closes first, so each leaves a client-side TIME_WAIT. */
export async function timeWaits(port: number, n: number, host = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = await connect(port, host);
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
    });
  }
}

/** Polls `ss` until `count()` returns `want`, for states that settle a moment after close. */
export async function settle(count: () => number, want: number, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (count() !== want && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

const SS_TO_KERNEL: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

/** `ss -Htan <filter>` counted by state, with the kernel's state names. */
export function ssCounts(filter: string): Record<string, number> {
  const out = execFileSync('sh', ['-c', `ss -Htan ${filter}`], { encoding: 'utf8' });
  const counts: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const state = line.trim().split(/\s+/)[0];
    if (!state) continue;
    const name = SS_TO_KERNEL[state] ?? state;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Open descriptors of this process, read in-process (spawning would open pipes of its own). */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
