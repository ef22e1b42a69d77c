// A service started before its DHCP lease (issue 13): dnsmasq from Debian serves DHCP on a veth from
// a second namespace; the service binds the address it will be leased before the lease, gets
// address-not-local, waits with waitForAddress, and binds once the lease is applied; explain() of
// the early failure then says address-appeared.
import { execFileSync } from 'node:child_process';
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, type TestContext } from 'vitest';
import { explain, safeBind } from '../../lib/index.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { need, start, type Started } from '../helpers/real-software.js';
import { tempDir } from '../helpers/temp-dir.js';
import { dhcpLease } from './fixtures/dhcp-client.js';

const LEASED = '10.72.0.50';

/** dnsmasq as the DHCP server (no DNS) on s0 in `peer`, leasing exactly LEASED. */
async function dhcpServer(ctx: TestContext, peer: string): Promise<Started> {
  const binary = need(ctx, 'dnsmasq');
  const dir = tempDir('safebind-dhcp-');
  const server = start([
    'ip',
    'netns',
    'exec',
    peer,
    binary,
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--port=0',
    '--interface=s0',
    '--bind-interfaces',
    `--dhcp-range=${LEASED},${LEASED},255.255.255.0,1h`,
    `--dhcp-leasefile=${join(dir, 'leases')}`,
    // Offer at once: dnsmasq otherwise pings the address for about 3 s before offering it.
    '--no-ping',
    '--log-dhcp',
    '--log-facility=-',
    '--pid-file=',
    '--user=root',
  ]);
  for (let i = 0; i < 400; i++) {
    const out = execFileSync('ip', ['netns', 'exec', peer, 'ss', '-Huln', 'sport = :67'], {
      encoding: 'utf8',
    });
    if (out.trim() !== '') return server;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error(`dnsmasq did not listen on port 67: ${server.output()}`);
}

/** h0 here, up and without an address; s0 in a peer namespace with 10.72.0.1/24. */
function link(ns: Netns): { peer: string; mac: string } {
  const peer = ns.peer();
  ns.run('ip link add h0 type veth peer name s0');
  ns.run(`ip link set s0 netns ${peer}`);
  ns.run(`ip -n ${peer} addr add 10.72.0.1/24 dev s0`);
  ns.run(`ip -n ${peer} link set s0 up`);
  ns.run('ip link set h0 up');
  const [h0] = JSON.parse(ns.run('ip -j link show h0')) as Array<{ address: string }>;
  return { peer, mac: h0?.address ?? '' };
}

describe('a service started before its DHCP lease, with dnsmasq as the server', () => {
  netnsIt(
    'the bind before the lease is address-not-local; waitForAddress binds once the lease is applied; the early failure then explains address-appeared',
    async (ns, ctx) => {
      const { peer, mac } = link(ns);
      const server = await dhcpServer(ctx, peer);

      const early = await safeBind({ host: LEASED, port: 8080 });
      expect(early.ok).toBe(false);
      if (early.ok) return;
      expect(early.error.code).toBe('EADDRNOTAVAIL');
      expect(early.diagnosis.cause).toBe('address-not-local');

      const waiting = safeBind({ host: LEASED, port: 8080, waitForAddress: 15_000 });
      const lease = await dhcpLease('h0', mac);
      expect(lease).toEqual({ address: LEASED, prefixLength: 24, server: '10.72.0.1' });
      expect(server.output()).toContain(`DHCPACK(s0) ${LEASED} ${mac}`);
      ns.run(`ip addr add ${lease.address}/${lease.prefixLength} dev h0`);

      const bound = await waiting;
      expect(bound.ok).toBe(true);
      if (bound.ok) closeSync(bound.socket.fd);

      const later = await explain(early.error);
      expect(later.cause).toBe('address-appeared');
    },
    30_000,
  );
});
