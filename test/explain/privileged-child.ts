// Runs in a child process as an unprivileged user (bundled by port-causes.test.ts): listens on a
// privileged port with Node, explains the error from inside that process (whose capabilities are the
// evidence), and prints both as one JSON line.
import net from 'node:net';
import { explain } from '../../lib/index.js';

const port = Number(process.argv[2] ?? '80');
const server = net.createServer();
server.once('error', (e: NodeJS.ErrnoException & { address?: string; port?: number }) => {
  void explain(e).then((diagnosis) => {
    process.stdout.write(
      JSON.stringify({
        uid: process.getuid?.(),
        error: { code: e.code, syscall: e.syscall, address: e.address, port: e.port },
        diagnosis,
      }) + '\n',
    );
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ uid: process.getuid?.(), listening: true }) + '\n');
  server.close();
});
