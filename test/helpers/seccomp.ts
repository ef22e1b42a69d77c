// The refusals the tests run commands under (test/helpers/seccomp-refuse.c, compiled once per run
// of a file): a sandbox that denies sock_diag, and a kernel before 6.3 that does not know
// IP_LOCAL_PORT_RANGE. Each returns the argv prefix to put before the command.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const source = join(dirname(fileURLToPath(import.meta.url)), 'seccomp-refuse.c');
let built: string | undefined;

function wrapper(): string {
  if (built === undefined) {
    // Kept for the test file's whole run (tests and beforeAll alike), removed when its process exits.
    const dir = mkdtempSync(join(tmpdir(), 'safebind-seccomp-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'seccomp-refuse');
    execFileSync('cc', ['-O', '-o', out, source]);
    built = out;
  }
  return built;
}

// Values from the uapi headers: socket(2)'s args are (family, type, protocol), setsockopt(2)'s
// (fd, level, name, …).
const AF_NETLINK = 16;
const NETLINK_SOCK_DIAG = 4;
const IPPROTO_IP = 0;
const IP_LOCAL_PORT_RANGE = 51;
const EPERM = 1;
const ENOPROTOOPT = 92;

/** socket(AF_NETLINK, *, NETLINK_SOCK_DIAG) fails with EPERM, as under a sandbox that denies it. */
export function refusingSockDiag(): string[] {
  return [wrapper(), 'socket', '0', String(AF_NETLINK), '2', String(NETLINK_SOCK_DIAG), String(EPERM)];
}

/** setsockopt(IPPROTO_IP, IP_LOCAL_PORT_RANGE) fails with ENOPROTOOPT, as before Linux 6.3. */
export function withoutLocalPortRange(): string[] {
  return [
    wrapper(),
    'setsockopt',
    '1',
    String(IPPROTO_IP),
    '2',
    String(IP_LOCAL_PORT_RANGE),
    String(ENOPROTOOPT),
  ];
}
