// The kernel-facing part of the suite, run by an arm64 Node under qemu-user against the arm64 prebuild
// (`npm run test:arm64`, scripts/test-arm64.mjs): the typed socket layer (test/sys), the host readers
// (test/host), the addon's own tests (test/native) and the check that the arm64 prebuild is what
// loaded (test/arm64). None of them needs a compiler. Emulation is slow: longer timeouts.
import { defineConfig } from 'vitest/config';

// Tests left out, by name, because qemu-user (7.2, Debian 12) translates every socket option and
// netlink protocol itself and refuses, before the kernel sees the call, what it does not know. A plain
// arm64 C program gets the same errors under qemu, so they say nothing about the prebuild; the x64 run
// covers all of these.
const QEMU_CANNOT = [
  // setsockopt/getsockopt SOL_IP 24, 19 and 51: ENOPROTOOPT from qemu.
  'IP_BIND_ADDRESS_NO_PORT',
  'bindAddressNoPort reads back', // the option table's round trip of IP_BIND_ADDRESS_NO_PORT
  'IP_TRANSPARENT',
  'IP_LOCAL_PORT_RANGE',
  'exchanges data from the source address bound natively', // sets IP_BIND_ADDRESS_NO_PORT
  // getsockopt SO_BINDTODEVICE once a device is bound: EINVAL from qemu (setsockopt works).
  'SO_BINDTODEVICE binds to lo and to a veth interface',
  // socket(AF_NETLINK, …, NETLINK_SOCK_DIAG): EPROTONOSUPPORT from qemu, so the socket table is read
  // from /proc instead; the tests that assert the sock_diag path itself cannot pass.
  'one walk for both TCP families',
  'countSockets toward one destination equals ss -Htan dst',
  "reads the caller's namespace as sock_diag sees it", // netnsRead's walk is sock_diag (issue 16)
  'counts TIME_WAIT timers in 1-s buckets', // the exporter forecast's counts come from that walk
  'leaves out sockets only bound', // asks sock_diag for the bound socket, then netnsRead's walk
  'a socket only bound is no destination', // asks sock_diag for the bound socket first
  'reads a table of many datagrams', // netnsRead's walk is sock_diag (and its fill is compiled C)
  // Not a qemu refusal: 2000 iterations of every reader take longer than 3 minutes emulated.
  '2000 iterations of each reader',
  // Not a qemu refusal: its 'api' workers run the built package (dist/), which the arm64 copy of the
  // tree does not build, and 320 worker terminations take minutes emulated.
  'workers terminated at random instants',
  'a worker terminated inside safeBind', // the same: safeBind of the built package
];
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default defineConfig({
  test: {
    pool: 'forks',
    isolate: true,
    include: [
      'test/arm64/**/*.test.ts',
      'test/sys/**/*.test.ts',
      'test/host/**/*.test.ts',
      'test/native/**/*.test.ts',
    ],
    // Needs the CLI built (tsup: its rollup has no arm64-under-qemu binary here) and fills 201,000
    // sockets, which takes far too long emulated; the x64 runs cover it.
    exclude: ['test/host/top-destinations-at-scale.test.ts'],
    testNamePattern: new RegExp(`^(?!.*(${QEMU_CANNOT.map(escape).join('|')}))`),
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
