// Runs test/explain/fixtures/client-error.mjs in the test's namespace and rebuilds the error it
// printed with the same classes and properties, so explain() receives the shape the library made.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp-dir.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/client-error.mjs', import.meta.url));

interface Encoded {
  class: string;
  message: string;
  cause?: unknown;
  errors?: unknown[];
  [key: string]: unknown;
}

function rebuild(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const e = value as Encoded;
  const members = e.errors?.map(rebuild);
  const made =
    e.class === 'AggregateError'
      ? new AggregateError(members ?? [], e.message)
      : e.class === 'TypeError'
        ? new TypeError(e.message)
        : new Error(e.message);
  for (const [key, v] of Object.entries(e)) {
    if (key === 'class' || key === 'message' || key === 'errors' || key === 'cause') continue;
    (made as unknown as Record<string, unknown>)[key] = v;
  }
  if (e.cause !== undefined) (made as Error).cause = rebuild(e.cause);
  return made;
}

/**
 * The error `kind` (fetch, undici, pg, ioredis) hands over, made in a child process. With `hosts`,
 * the child sees that text as /etc/hosts (a private mount namespace of its own; the host's file is
 * untouched): how `localhost` gets both ::1 and 127.0.0.1 on a host whose file lists one.
 */
export function clientError(args: string[], hosts?: string): Error {
  let file = process.execPath;
  let argv = [FIXTURE, ...args];
  if (hosts !== undefined) {
    const dir = tempDir('safebind-hosts-');
    const path = join(dir, 'hosts');
    writeFileSync(path, hosts);
    file = 'unshare';
    argv = [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      path,
      process.execPath,
      ...argv,
    ];
  }
  const out = execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return rebuild(JSON.parse(out)) as Error;
}
