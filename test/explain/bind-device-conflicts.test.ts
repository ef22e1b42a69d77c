// port-in-use with SO_BINDTODEVICE, against real HAProxy (`bind … interface d0`, which sets
// SO_BINDTODEVICE): the kernel lets sockets bound to different devices share a port, so a holder on
// another device is never blamed; one bound to the same device, or a bind to no device, is. The
// holder's device is read from sock_diag (idiag_if).
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, expect, onTestFinished, type TestContext } from 'vitest';
import { explain, safeBind } from '../../lib/index.js';
import type { PortHolder } from '../../lib/host/types.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { listening, startHaproxy } from '../helpers/real-software.js';
import { dgramBindError, listenError } from './helpers.js';

const PORT = 8080;

function twoLinks(ns: Netns): void {
  for (const [name, peer, net24] of [
    ['d0', 'd0p', '10.71.0.1/24'],
    ['d1', 'd1p', '10.71.1.1/24'],
  ] as const) {
    ns.run(`ip link add ${name} type veth peer name ${peer}`);
    ns.run(`ip addr add ${net24} dev ${name}`);
    ns.run(`ip link set ${name} up`);
    ns.run(`ip link set ${peer} up`);
  }
}

/** HAProxy listening on 0.0.0.0:PORT bound to device d0. */
function haproxyOnD0(ctx: TestContext): number {
  return startHaproxy(ctx, `0.0.0.0:${PORT} interface d0`).pid;
}

/** A listener of this process on 0.0.0.0:PORT bound to d1: the kernel lets it share the port. */
async function ownListenerOnD1(): Promise<void> {
  const bound = await safeBind({ host: '0.0.0.0', port: PORT, device: 'd1' });
  if (!bound.ok) throw new Error(`bind on d1 failed: ${bound.diagnosis.summary}`);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ fd: bound.socket.fd }, resolve));
  onTestFinished(() => void server.close());
}

describe('port-in-use and SO_BINDTODEVICE, with real HAProxy', () => {
  netnsIt(
    'HAProxy on 0.0.0.0:8080 bound to d0 and a listener on d1 share the port; a bind on d0 blames HAProxy only, a bind to no device blames both',
    async (ns, ctx) => {
      twoLinks(ns);
      const haproxy = haproxyOnD0(ctx);
      await listening(ns, PORT);
      await ownListenerOnD1();
      await listening(ns, PORT, 2);

      const onD0 = await safeBind({ host: '0.0.0.0', port: PORT, device: 'd0' });
      expect(onD0.ok).toBe(false);
      if (onD0.ok) return;
      expect(onD0.error.code).toBe('EADDRINUSE');
      const d = onD0.diagnosis;
      expect(d.cause).toBe('port-in-use');
      const holders = d.evidence['holders'] as PortHolder[];
      expect(holders.map((h) => [h.pid, h.device])).toEqual([[haproxy, 'd0']]);
      expect((d.evidence['notConflicting'] as PortHolder[]).map((h) => [h.pid, h.device])).toEqual([
        [process.pid, 'd1'],
      ]);
      expect(d.summary).toContain(`haproxy (pid ${haproxy})`);
      expect(d.details.join('\n')).toContain('(SO_BINDTODEVICE d0)');

      // Node's listen binds to no device: every holder on the port is in the way.
      const err = await listenError(net.createServer(), PORT, '127.0.0.1');
      expect(err.code).toBe('EADDRINUSE');
      const all = await explain(err);
      expect(all.cause).toBe('port-in-use');
      expect(
        (all.evidence['holders'] as PortHolder[])
          .map((h) => [h.pid, h.device])
          .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      ).toEqual([
        [haproxy, 'd0'],
        [process.pid, 'd1'],
      ]);
    },
    30_000,
  );

  netnsIt(
    'with net.ipv6.bindv6only=1 in the namespace, a TCP listen on [::] by Node still conflicts with 0.0.0.0 (Node sets IPV6_V6ONLY), while a dgram [::] bind is blocked by the [::] holder only',
    async (ns) => {
      ns.sysctl('net.ipv6.bindv6only', '1');
      const v4 = net.createServer();
      await new Promise<void>((resolve) => v4.listen(PORT, '0.0.0.0', resolve));
      onTestFinished(() => void v4.close());
      // Node's TCP listen sets IPV6_V6ONLY to ipv6Only (false): the sysctl does not apply.
      const err = await listenError(net.createServer(), PORT, '::');
      expect(err.code).toBe('EADDRINUSE');
      const d = await explain(err);
      expect(d.cause).toBe('port-in-use');
      expect((d.evidence['holders'] as PortHolder[]).map((h) => [h.local, h.pid])).toEqual([
        ['0.0.0.0', process.pid],
      ]);

      // Node's dgram leaves IPV6_V6ONLY unset, so the sysctl applies: a udp6 socket on [::] shares
      // the port with a udp4 one on 0.0.0.0, and a second [::] bind is blocked by the first only.
      const udp4 = dgram.createSocket('udp4');
      const udp6 = dgram.createSocket('udp6');
      onTestFinished(() => {
        udp4.close();
        udp6.close();
      });
      await new Promise<void>((resolve) => udp4.bind(PORT, '0.0.0.0', resolve));
      await new Promise<void>((resolve) => udp6.bind(PORT, '::', resolve));
      const again = await dgramBindError('udp6', PORT, '::');
      expect(again.code).toBe('EADDRINUSE');
      const u = await explain(again);
      expect(u.cause).toBe('port-in-use');
      expect((u.evidence['holders'] as PortHolder[]).map((h) => [h.protocol, h.local, h.v6only])).toEqual([
        ['udp', '::', true],
      ]);
      expect((u.evidence['notConflicting'] as PortHolder[]).map((h) => [h.protocol, h.local])).toEqual([
        ['udp', '0.0.0.0'],
      ]);
    },
    30_000,
  );
});
