// Client-side TIME_WAIT sockets for the benches that read socket tables: a loopback listener, and
// connections to it that the client closes first, so its side is left in TIME_WAIT for 60 s.
import net from 'node:net';

/** A TCP listener on 127.0.0.1:port that ignores its connections' errors. */
export function listen(port) {
  const server = net.createServer((s) => s.on('error', () => {}));
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

/** `n` connections to 127.0.0.1:port, `concurrency` at a time, each ended by the client at once. */
export async function timeWaits(port, n, concurrency = 64) {
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      await new Promise((ok) => {
        const s = net.connect(port, '127.0.0.1', () => s.end());
        s.on('error', ok);
        s.on('close', ok);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
