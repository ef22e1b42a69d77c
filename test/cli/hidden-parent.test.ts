// port-in-use read by an unprivileged user: a server whose master runs as root and whose workers run
// as another user (nginx's way) shows only the workers to that user. Killing a worker frees nothing
// (the master starts another), so the diagnosis names the master it could not look into and sends
// the operator to see every holder as root, instead of printing `kill <worker>`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, onTestFinished } from 'vitest';
import { buildBin, runCli } from './cli.js';
import { netnsIt } from '../helpers/netns.js';

beforeAll(() => buildBin(), 180_000);

// The master (root) listens, then forks a worker that drops to uid 65534 and keeps the socket. The
// worker makes itself dumpable again, as nginx's workers do (a process that changed uid is not, and
// its /proc/PID/fd is then root's): its user can then see its descriptors.
const SERVER = `
import ctypes, os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 7300))
s.listen()
pid = os.fork()
if pid == 0:
    os.setgid(65534)
    os.setuid(65534)
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
    print(os.getpid(), flush=True)
    time.sleep(600)
    sys.exit(0)
time.sleep(600)
`;

describe('port-in-use seen by an unprivileged user', () => {
  netnsIt('names the root master it could not look into, and prints no kill of the worker', async () => {
    const master = spawn('python3', ['-c', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => {
      master.kill('SIGKILL');
    });
    const worker = await new Promise<number>((resolve) =>
      master.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    onTestFinished(() => {
      try {
        process.kill(worker, 'SIGKILL');
      } catch {
        // gone with its master
      }
    });
    expect(readFileSync(`/proc/${worker}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
    const run = await runCli(['preflight', '--bind', '127.0.0.1:7300'], { NO_COLOR: '1' }, 60_000, [
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
    ]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('port-in-use');
    expect(run.stdout).toContain(`started by python3 (pid ${master.pid})`);
    expect(run.stdout).toContain("sudo ss -ltnp 'sport = :7300'");
    expect(run.stdout).not.toContain(`kill ${worker}`);

    // As root every holder is seen: the master, which is the one to stop.
    const root = await runCli(['preflight', '--bind', '127.0.0.1:7300'], { NO_COLOR: '1' });
    expect(root.stdout).toContain(`kill ${master.pid}`);
    expect(root.stdout).not.toContain('started by');
  });
});
