// Runs a command that sees its own /etc/resolv.conf and /etc/hosts: a child in a private mount
// namespace (`unshare --mount --propagation private`) with temporary files bind-mounted over the
// host's, which stay untouched. The child is spawned from the test process, so it also starts in
// the test's network namespace, and glibc's resolver in it reads the files given here.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface ResolverFiles {
  resolvConf: string;
  hosts: string;
}

export interface ChildRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` with `files` as its /etc/resolv.conf and /etc/hosts; resolves when it exits. */
export function withResolverFiles(files: ResolverFiles, argv: string[]): Promise<ChildRun> {
  const dir = tempDir('safebind-resolver-');
  const resolv = join(dir, 'resolv.conf');
  const hosts = join(dir, 'hosts');
  writeFileSync(resolv, files.resolvConf);
  writeFileSync(hosts, files.hosts);
  const script = 'mount --bind "$0" /etc/resolv.conf && mount --bind "$1" /etc/hosts && shift && exec "$@"';
  const args = ['--mount', '--propagation', 'private', 'sh', '-c', script, resolv, hosts, ...argv];
  return new Promise((resolve, reject) => {
    execFile('unshare', args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ status: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}
