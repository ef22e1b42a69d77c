// Runs the built CLI (`node dist/cli/main.js`) for the bench tests; dist/ is rebuilt when lib/ is
// newer, by the same locked build the CLI tests use.
import { spawn, spawnSync } from 'node:child_process';
import { bin as cli, buildBin, root } from '../cli/cli.js';

export { root };

export function ensureBuilt(): void {
  buildBin();
}

export function safebind(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking this process's event loop (for tests that serve the target here). */
export function safebindAsync(
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
