// explain() on the errors fetch hands over, as it hands them: Node's global fetch and undici's
// reject with `TypeError: fetch failed` whose `.cause` is the connect or lookup error. Made for real
// inside a private network namespace: a closed port, a name that never resolves, a source-port pool
// used up by undici itself, and an HTTP error that is no socket error at all.
import http from 'node:http';
import { Agent, fetch as undiciFetch } from 'undici';
import { describe, expect } from 'vitest';
import { explain } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { clientError } from './client-error.js';
import { commands, listener } from './helpers.js';

/** The rejection of a fetch that the test expects to fail. */
async function rejection(attempt: Promise<unknown>): Promise<Error> {
  try {
    await attempt;
  } catch (e) {
    return e as Error;
  }
  throw new Error('fetch succeeded; the test expected it to fail');
}

describe('explain() on fetch errors, against the real kernel', () => {
  netnsIt(
    "Node's global fetch to a closed port explains connection-refused through .cause, naming the empty port",
    async () => {
      const err = await rejection(fetch('http://127.0.0.1:5999/'));
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toBe('fetch failed');
      expect(err.cause).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', port: 5999 });

      const d = await explain(err);
      expect(d.cause).toBe('connection-refused');
      expect(d.code).toBe('ECONNREFUSED');
      expect(d.summary).toBe(
        'Connection refused by 127.0.0.1:5999: nothing listens on port 5999 in this network namespace',
      );
      expect(d.evidence).toMatchObject({
        destination: '127.0.0.1:5999',
        destinationLocal: true,
        listeners: [],
      });
      expect(d.details).toContain(
        'Explained Error [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:5999, found at .cause of TypeError: fetch failed.',
      );
      expect(d.remediation[0]?.title).toContain('Start the service that should listen on port 5999');
      expect(commands(d)).toEqual(["ss -ltnp 'sport = :5999'"]);
    },
  );

  netnsIt("undici's fetch to a closed port explains connection-refused the same way", async () => {
    const err = await rejection(undiciFetch('http://127.0.0.1:5998/'));
    expect(err).toBeInstanceOf(TypeError);
    const d = await explain(err);
    expect(d.cause).toBe('connection-refused');
    expect(d.summary).toContain('nothing listens on port 5998 in this network namespace');
  });

  for (const kind of ['fetch', 'undici']) {
    netnsIt(
      `${kind} to a .invalid name, with no resolver reachable from the namespace, explains name-not-resolved with EAI_AGAIN and the resolver read`,
      async () => {
        const err = clientError([kind, 'http://nonexistent.invalid/']);
        expect(err).toBeInstanceOf(TypeError);
        // The namespace has only loopback: the nameserver cannot be reached, so the answer is
        // "try again", not "does not exist".
        expect(err.cause).toMatchObject({
          code: 'EAI_AGAIN',
          syscall: 'getaddrinfo',
          hostname: 'nonexistent.invalid',
        });
        const d = await explain(err);
        expect(d.cause).toBe('name-not-resolved');
        expect(d.code).toBe('EAI_AGAIN');
        expect(d.summary).toMatch(
          /^Cannot resolve nonexistent\.invalid: the resolver did not answer \(EAI_AGAIN, a temporary failure\)/,
        );
        expect(d.evidence).toMatchObject({ name: 'nonexistent.invalid', temporary: true, families: [4, 6] });
        const resolver = d.evidence['resolver'] as { hosts?: { matches: unknown[] } };
        expect(resolver.hosts?.matches).toEqual([]);
        expect(d.details.some((line) => line.startsWith('/etc/nsswitch.conf hosts:'))).toBe(true);
        expect(d.details).toContain('/etc/hosts does not name nonexistent.invalid.');
        expect(d.details.some((line) => line.includes('special-use domain'))).toBe(true);
        expect(commands(d)).toContain('getent hosts nonexistent.invalid');
        expect(d.remediation[1]?.title).toContain('EAI_AGAIN is temporary');
      },
    );
  }

  netnsIt(
    'undici with 20 connections held open and a 10-port range: the failing fetch explains ephemeral-ports-exhausted through .cause',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
      // A server that never answers keeps every request, and so its connection, open.
      const held: http.ServerResponse[] = [];
      const server = http.createServer((_req, res) => held.push(res));
      await new Promise<void>((resolve) => server.listen(7100, '127.0.0.1', resolve));
      const dispatcher = new Agent({ connections: 20, pipelining: 1 });
      const attempts = Array.from({ length: 20 }, () =>
        undiciFetch('http://127.0.0.1:7100/', { dispatcher }).then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
      );
      try {
        const err = await Promise.race(attempts.map((a) => a.then((e) => e ?? new Error('answered'))));
        expect(err.cause).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'connect', port: 7100 });
        const d = await explain(err);
        expect(d.cause).toBe('ephemeral-ports-exhausted');
        expect(d.evidence['portUsage']).toMatchObject({
          destination: '127.0.0.1:7100',
          poolSize: 10,
          inUse: 10,
        });
        expect(commands(d)).toContain('sysctl -w net.ipv4.ip_local_port_range="1024 65535"');
      } finally {
        for (const res of held) res.destroy();
        await dispatcher.destroy();
        server.close();
      }
    },
  );

  netnsIt(
    'a fetch that got an HTTP 500 and threw it explains unknown and says nothing in it came from a socket',
    async () => {
      await listener(7200);
      const server = http.createServer((_req, res) => res.writeHead(500).end());
      await new Promise<void>((resolve) => server.listen(7201, '127.0.0.1', resolve));
      try {
        const res = await fetch('http://127.0.0.1:7201/');
        const err = new Error(`HTTP ${res.status}`, { cause: { status: res.status } });
        const d = await explain(err);
        expect(d.cause).toBe('unknown');
        expect(d.summary).toBe(
          'Not a socket error: Error: HTTP 500; nothing in it came from a socket call or a name lookup',
        );
        expect(d.details[0]).toContain('has no syscall and no errno code');
        expect(d.summary).not.toMatch(/^ |: no known cause/);
      } finally {
        server.close();
      }
    },
  );
});
