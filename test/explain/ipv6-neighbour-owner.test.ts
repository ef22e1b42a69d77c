// address-on-other-host for IPv6 (issue 13): the neighbour table is read with rtnetlink
// RTM_GETNEIGH for both families, so an IPv6 address that another host on the link owns is named
// as such, with its link-layer address, and the fix never adds the address here. The other host is
// a second namespace at the far end of a veth pair, owning the address (nodad).
import net from 'node:net';
import { createSocket } from 'node:dgram';
import { beforeAll, describe, expect } from 'vitest';
import { readNeighbours } from '../../lib/host/index.js';
import { explain } from '../../lib/index.js';
import { buildBin, runCli } from '../cli/cli.js';
import { netnsIt, vethToPeerOwning, type Netns } from '../helpers/netns.js';
import { commands, listenError } from './helpers.js';

beforeAll(() => buildBin(), 180_000);

const OWNED = 'fd00:61::50';

/** v0 here (fd00:61::1/64) – v1 in a peer namespace that owns fd00:61::50. Returns v1's MAC. */
function linkToOwner(ns: Netns): string {
  const peer = vethToPeerOwning(ns, `${OWNED}/64`, 'v0', 'v1');
  ns.run('ip -6 addr add fd00:61::1/64 dev v0 nodad');
  ns.run('ip link set v0 up');
  const [link] = JSON.parse(ns.run(`ip -n ${peer} -j link show v1`)) as Array<{ address: string }>;
  if (link === undefined) throw new Error('v1 not found in the peer namespace');
  return link.address;
}

function entryFor(address: string) {
  const table = readNeighbours();
  if (!table.ok) throw new Error(table.error.message);
  return table.value.find((n) => n.address === address);
}

/** One datagram toward `address`: the kernel sends a neighbour solicitation to resolve it. */
async function sendOne(address: string): Promise<void> {
  const socket = createSocket('udp6');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.send(Buffer.alloc(1), 9, address, () => resolve()));
  socket.close();
}

describe('address-on-other-host for IPv6, from the rtnetlink neighbour table', () => {
  netnsIt(
    'the owner appears in the table only after traffic, and then a bind of its address explains address-on-other-host, never advising to add it',
    async (ns) => {
      const mac = linkToOwner(ns);

      // No traffic yet: the table does not know the owner, so the passive read cannot tell.
      expect(entryFor(OWNED)).toBeUndefined();
      const before = await explain(await listenError(net.createServer(), 8080, OWNED));
      expect(before.cause).toBe('address-not-local');

      const sent = performance.now();
      await sendOne(OWNED);
      let entry = entryFor(OWNED);
      while (entry?.state !== 'reachable' && performance.now() - sent < 3000) {
        await new Promise((ok) => setTimeout(ok, 5));
        entry = entryFor(OWNED);
      }
      const ms = performance.now() - sent;
      console.log(`[measured] IPv6 neighbour entry reachable ${ms.toFixed(1)} ms after one datagram`);
      expect(entry).toEqual({ address: OWNED, family: 6, interface: 'v0', lladdr: mac, state: 'reachable' });

      const err = await listenError(net.createServer(), 8080, OWNED);
      expect(err.code).toBe('EADDRNOTAVAIL');
      const d = await explain(err);
      expect(d.cause).toBe('address-on-other-host');
      expect(d.summary).toBe(
        `Cannot bind [${OWNED}]:8080: ${OWNED} is not on this host, and another host on v0 answers for it (${mac}): it is live elsewhere, as a VIP on the VRRP master is`,
      );
      expect(d.evidence['owner']).toEqual(entry);
      expect(d.evidence['subnet']).toBe('fd00:61::/64');
      expect(commands(d)).toEqual([`ip neigh show ${OWNED} dev v0`, `ndisc6 ${OWNED} v0`]);
      expect(commands(d).some((c) => c.startsWith('ip addr add') || c.startsWith('ip -6 addr add'))).toBe(
        false,
      );
      expect(d.details.join('\n')).toContain('duplicate neighbour advertisements');
    },
    20_000,
  );

  netnsIt(
    'preflight --probe asks the link (a neighbour solicitation) and finds the IPv6 owner with no earlier traffic',
    async (ns) => {
      const mac = linkToOwner(ns);
      expect(entryFor(OWNED)).toBeUndefined();

      const plain = await runCli(['preflight', '--bind', `[${OWNED}]:8080`, '--json']);
      const plainCheck = (JSON.parse(plain.stdout) as { checks: Array<{ diagnosis?: { cause: string } }> })
        .checks[0];
      expect(plainCheck?.diagnosis?.cause).toBe('address-not-local');

      const run = await runCli(['preflight', '--bind', `[${OWNED}]:8080`, '--probe', '--json']);
      expect(run.status).toBe(1);
      const check = (
        JSON.parse(run.stdout) as {
          checks: Array<{
            diagnosis?: {
              cause: string;
              evidence: Record<string, unknown>;
              remediation: Array<{ commands?: string[] }>;
            };
          }>;
        }
      ).checks[0];
      expect(check?.diagnosis?.cause).toBe('address-on-other-host');
      expect(check?.diagnosis?.evidence['owner']).toMatchObject({
        address: OWNED,
        lladdr: mac,
        interface: 'v0',
      });
      const all = check?.diagnosis?.remediation.flatMap((r) => r.commands ?? []) ?? [];
      expect(all.some((c) => c.includes('addr add'))).toBe(false);
    },
    20_000,
  );
});
