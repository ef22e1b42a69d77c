// explain() on connect ECONNREFUSED, made for real: a fastify server listening on another address
// than the one the client used, a server on another local address, and a far host (a second
// namespace behind a veth pair) that answers with a reset, where its listeners cannot be seen.
import Fastify from 'fastify';
import { expect, onTestFinished } from 'vitest';
import { explain } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { commands, connectError, options } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

async function fastifyOn(host: string, port: number): Promise<void> {
  const app = Fastify();
  app.get('/', async () => 'ok');
  await app.listen({ host, port });
  onTestFinished(() => app.close());
}

eachReader('explain() on refused connections, against the real kernel', () => {
  netnsIt(
    'fetch to [::1] while fastify listens on 127.0.0.1 only explains connection-refused and names the IPv4 listener',
    async () => {
      await fastifyOn('127.0.0.1', 3000);
      const err = await fetch('http://[::1]:3000/').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.cause).toMatchObject({ code: 'ECONNREFUSED', address: '::1', port: 3000 });

      const d = await explain(err);
      expect(d.cause).toBe('connection-refused');
      expect(d.summary).toBe(
        'Connection refused by [::1]:3000: nothing listens on ::1 port 3000; 1 listener on port 3000 exists on 127.0.0.1:3000',
      );
      expect(d.evidence).toMatchObject({ destinationLocal: true, listenersOnDestination: [] });
      expect(d.evidence['listenersElsewhere']).toMatchObject([
        { local: '127.0.0.1', localPort: 3000, state: 'LISTEN', pid: process.pid },
      ]);
      expect(
        d.details.some((line) => line.includes('The client tried IPv6 and the server listens on IPv4 only')),
      ).toBe(true);
      expect(d.remediation[0]?.title).toContain('Make the server listen on the address clients use (::1)');
      expect(d.remediation[0]?.title).toContain("'::' takes IPv6 and IPv4");
      expect(options(d)).toEqual(["host: '127.0.0.1'"]);
    },
  );

  netnsIt(
    "connecting to 127.0.0.1:5432 while the server listens on v0's 10.88.0.1:5432 says so",
    async (ns) => {
      ns.run('ip link add v0 type veth peer name v1');
      ns.run('ip link set v0 up');
      ns.run('ip link set v1 up');
      ns.run('ip addr add 10.88.0.1/24 dev v0');
      await fastifyOn('10.88.0.1', 5432);
      const err = await connectError({ host: '127.0.0.1', port: 5432 });
      const d = await explain(err);
      expect(d.cause).toBe('connection-refused');
      expect(d.summary).toBe(
        'Connection refused by 127.0.0.1:5432: nothing listens on 127.0.0.1 port 5432; 1 listener on port 5432 exists on 10.88.0.1:5432',
      );
      expect(options(d)).toEqual(["host: '10.88.0.1'"]);
    },
  );

  netnsIt(
    'a far host that answers with a reset explains connection-refused, says its listeners cannot be seen from here, and names the local listener',
    async (ns) => {
      const peer = ns.peer();
      ns.run('ip link add v0 type veth peer name v1');
      ns.run(`ip link set v1 netns ${peer}`);
      ns.run('ip addr add 10.77.0.1/24 dev v0');
      ns.run('ip link set v0 up');
      ns.run(`ip -n ${peer} addr add 10.77.0.2/24 dev v1`);
      ns.run(`ip -n ${peer} link set v1 up`);
      await fastifyOn('127.0.0.1', 5432);

      const err = await connectError({ host: '10.77.0.2', port: 5432 });
      expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: '10.77.0.2' });
      const d = await explain(err);
      expect(d.cause).toBe('connection-refused');
      expect(d.summary).toBe(
        'Connection refused by 10.77.0.2:5432: that host answered with a reset, nothing accepts on port 5432 there (or a firewall rejects)',
      );
      expect(d.evidence).toMatchObject({ destinationLocal: false });
      expect(d.details[1]).toContain(
        '10.77.0.2 is not an address of this network namespace: its listeners cannot be seen from here',
      );
      expect(d.details[2]).toContain('Here, port 5432 is listened on at 127.0.0.1:5432');
      expect(d.remediation[0]?.title).toBe(
        'On 10.77.0.2, check that the service runs and listens on 10.77.0.2:5432 (not only on 127.0.0.1)',
      );
      expect(commands(d)).toContain("ss -ltnp 'sport = :5432'");
    },
  );
});
