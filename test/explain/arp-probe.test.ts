// The RFC 5227 ARP probe of `preflight --probe` (issue 13): a VIP in no subnet of this host (a /32
// owned by a host at the far end of a veth, in a second namespace) is found by a probe sent from
// 0.0.0.0 over an AF_PACKET socket, which needs no IPv4 address on the link; the kernel's own ARP
// would never ask, as no route leads there.
import { beforeAll, describe, expect } from 'vitest';
import { arpProbe, readNeighbours } from '../../lib/host/index.js';
import { buildBin, runCli } from '../cli/cli.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { fdCount } from '../host/tables.js';

beforeAll(() => buildBin(), 180_000);

const VIP = '192.168.100.10';

/** p0 here (up, no IPv4 address), p1 in a peer namespace holding VIP/32. Returns p1's MAC. */
function vipBehindLink(ns: Netns): string {
  const peer = ns.peer();
  ns.run('ip link add p0 type veth peer name p1');
  ns.run(`ip link set p1 netns ${peer}`);
  ns.run(`ip -n ${peer} addr add ${VIP}/32 dev p1`);
  ns.run(`ip -n ${peer} link set p1 up`);
  ns.run('ip link set p0 up');
  const [link] = JSON.parse(ns.run(`ip -n ${peer} -j link show p1`)) as Array<{ address: string }>;
  return link?.address ?? '';
}

interface Check {
  diagnosis?: {
    cause: string;
    details: string[];
    evidence: Record<string, unknown>;
    remediation: Array<{ commands?: string[] }>;
  };
}

describe('the RFC 5227 ARP probe', () => {
  netnsIt(
    'arpProbe finds the owner of an address in no local subnet, and nobody for a free one',
    async (ns) => {
      const mac = vipBehindLink(ns);
      const before = fdCount();
      const found = await arpProbe('p0', VIP, 1000);
      expect(found).toEqual({
        ok: true,
        value: {
          address: VIP,
          family: 4,
          interface: 'p0',
          lladdr: mac,
          state: 'reachable',
          via: 'arp-probe',
        },
      });
      // The probe leaves no entry in this host's table.
      const table = readNeighbours();
      expect(table.ok && table.value.some((n) => n.address === VIP)).toBe(false);

      const free = await arpProbe('p0', '192.168.100.11', 300);
      expect(free).toEqual({ ok: true, value: undefined });
      expect(await arpProbe('nosuch0', VIP, 100)).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
      // The packet socket is closed on every path: answered, timed out, refused before it was opened.
      expect(fdCount()).toBe(before);
    },
  );

  netnsIt(
    'preflight --probe on a VIP in no local subnet explains address-on-other-host from the probe; without --probe it is address-not-local',
    async (ns) => {
      const mac = vipBehindLink(ns);
      const plain = await runCli(['preflight', '--bind', `${VIP}:8080`, '--json']);
      expect((JSON.parse(plain.stdout) as { checks: Check[] }).checks[0]?.diagnosis?.cause).toBe(
        'address-not-local',
      );

      const run = await runCli(['preflight', '--bind', `${VIP}:8080`, '--probe', '--json']);
      expect(run.status).toBe(1);
      const d = (JSON.parse(run.stdout) as { checks: Check[] }).checks[0]?.diagnosis;
      expect(d?.cause).toBe('address-on-other-host');
      expect(d?.evidence['owner']).toMatchObject({
        address: VIP,
        lladdr: mac,
        interface: 'p0',
        via: 'arp-probe',
      });
      expect(d?.details).toContain(
        `An ARP probe (RFC 5227, from 0.0.0.0) for ${VIP} on p0 was answered by ${mac}: another host on that link has the address now.`,
      );
      const commands = d?.remediation.flatMap((r) => r.commands ?? []) ?? [];
      expect(commands.some((c) => c.includes('addr add'))).toBe(false);
    },
    20_000,
  );
});
