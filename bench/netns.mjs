// Every benchmark runs in a private network namespace: it re-executes itself under `unshare`
// (`--net` as root, `--user --map-root-user --net` otherwise), then brings loopback up there, so
// its sockets and sysctls never touch the host.
import { execFileSync, spawnSync } from 'node:child_process';
import process from 'node:process';

const MARK = 'SAFEBIND_BENCH_IN_NETNS';

/** Returns once this process is inside its own namespace with lo up; the outer process exits here. */
export function enterPrivateNetns() {
  if (!process.env[MARK]) {
    const args = process.geteuid() === 0 ? ['--net'] : ['--user', '--map-root-user', '--net'];
    const r = spawnSync('unshare', [...args, '--', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, [MARK]: '1' },
    });
    process.exit(r.status ?? 1);
  }
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
}
