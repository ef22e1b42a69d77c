// explain() on the AggregateError of Node's happy-eyeballs connect: a name with several addresses
// (localhost = ::1 and 127.0.0.1) where every attempt fails. The error has a code but no syscall,
// address or port; `.errors` holds one connect error per address. Made for real with net, pg and
// ioredis inside a private network namespace.
import net from 'node:net';
import { expect } from 'vitest';
import { explain } from '../../lib/index.js';
import type { Diagnosis } from '../../lib/types.js';
import { netnsIt } from '../helpers/netns.js';
import { clientError } from './client-error.js';
import { commands, connectError } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

/** /etc/hosts as most distributions ship it: localhost on both families. */
const DUAL_STACK_HOSTS = '127.0.0.1 localhost\n::1 localhost ip6-localhost\n';

/** localhost as a dual-stack name, without asking the host's resolver. */
const bothLoopbacks: net.LookupFunction = (_name, options, callback) => {
  const all = [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ];
  if (options.all) callback(null, all);
  else callback(null, all[0]!.address, all[0]!.family);
};

function members(d: Diagnosis): Array<Diagnosis & { path: string }> {
  return d.evidence['members'] as Array<Diagnosis & { path: string }>;
}

/** What every all-refused localhost diagnosis says, whichever client made the error. */
function expectBothRefused(d: Diagnosis, port: number): void {
  expect(d.cause).toBe('connection-refused');
  expect(d.code).toBe('ECONNREFUSED');
  expect(d.summary).toBe(
    `Connection refused by [::1]:${port}: nothing listens on port ${port} in this network namespace (all 2 attempts failed the same way)`,
  );
  expect(members(d).map((m) => [m.path, m.cause, m.evidence['destination']])).toEqual([
    ['errors[0]', 'connection-refused', `[::1]:${port}`],
    ['errors[1]', 'connection-refused', `127.0.0.1:${port}`],
  ]);
  expect(d.details[0]).toContain('holds 2 distinct failures; all are connection-refused');
  expect(d.details).toContain(
    `  errors[1]: connection-refused: Connection refused by 127.0.0.1:${port}: nothing listens on port ${port} in this network namespace`,
  );
  expect(commands(d)).toEqual([`ss -ltnp 'sport = :${port}'`]);
  expect(d.summary).not.toMatch(/^ |no known cause/);
}

eachReader('explain() on happy-eyeballs AggregateErrors, against the real kernel', () => {
  netnsIt(
    'net.connect to a name with ::1 and 127.0.0.1, both closed, explains connection-refused with both members',
    async () => {
      const err = await connectError({ host: 'localhost', port: 5432, lookup: bothLoopbacks });
      expect(err).toBeInstanceOf(AggregateError);
      expect(err.code).toBe('ECONNREFUSED');
      expect(err.syscall).toBeUndefined();
      expect(err.address).toBeUndefined();
      expectBothRefused(await explain(err), 5432);
    },
  );

  netnsIt(
    "pg's Client to localhost on a closed port hands over the AggregateError, which explains connection-refused with both members",
    async () => {
      const err = clientError(['pg', 'localhost', '5433'], DUAL_STACK_HOSTS);
      expect(err).toBeInstanceOf(AggregateError);
      expect(err).toMatchObject({ code: 'ECONNREFUSED' });
      expectBothRefused(await explain(err), 5433);
    },
  );

  netnsIt(
    "ioredis with its default host (localhost) on a closed port: the error on 'error' explains connection-refused with both members",
    async () => {
      const err = clientError(['ioredis', '6380'], DUAL_STACK_HOSTS);
      expect(err).toBeInstanceOf(AggregateError);
      expectBothRefused(await explain(err), 6380);
    },
  );

  netnsIt(
    'with IPv6 off in the namespace the ::1 attempt fails otherwise, and the IPv4 refusal leads the summary',
    async (ns) => {
      ns.sysctl('net.ipv6.conf.all.disable_ipv6', '1');
      const err = await connectError({ host: 'localhost', port: 5434, lookup: bothLoopbacks });
      expect(err).toBeInstanceOf(AggregateError);
      const d = await explain(err);
      const causes = members(d).map((m) => m.cause);
      expect(causes).toHaveLength(2);
      expect(causes[1]).toBe('connection-refused');
      expect(causes[0]).toBe('family-unavailable');
      expect(members(d)[0]?.code).toBe('EADDRNOTAVAIL');
      expect(members(d)[0]?.summary).toBe(
        'Cannot connect to [::1]:5434: IPv6 is disabled (net.ipv6.conf.all.disable_ipv6 = 1), so this host has no IPv6 source address',
      );
      expect(d.cause).toBe('connection-refused');
      expect(d.summary).toMatch(
        /^Connection refused by 127\.0\.0\.1:5434: nothing listens on port 5434 in this network namespace \(2 attempts failed: /,
      );
      expect(d.details[0]).toContain('the causes differ, connection-refused leads');
      expect(d.summary).toContain('(2 attempts failed: family-unavailable and connection-refused)');
    },
  );
});
