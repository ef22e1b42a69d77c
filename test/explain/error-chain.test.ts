// explain() walks what it is handed: `.cause` chains and AggregateError members, bounded and safe
// against cycles; the same failure twice is explained once; an error chain with no socket error
// gets an unknown that says so. The members are plain Node-shaped errors explained in a private
// namespace, so what the host has listening does not leak in.
import { expect } from 'vitest';
import { MAX_DEPTH, MAX_VISITED, walkErrorChain } from '../../lib/api/error-chain.js';
import { CAUSE_RANK } from '../../lib/diagnose/combine.js';
import { explain } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { eachReader } from '../helpers/readers.js';

function refused(address: string, port: number): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${address}:${port}`), {
    code: 'ECONNREFUSED',
    errno: -111,
    syscall: 'connect',
    address,
    port,
  });
}

eachReader('the error chain explain() walks', () => {
  netnsIt(
    'a .cause cycle is walked once and said, and with no socket error in it the diagnosis is an unknown that says so',
    async () => {
      const a = new Error('outer') as Error & { cause?: unknown };
      const b = new Error('middle', { cause: a });
      a.cause = b;
      const c = new TypeError('fetch failed', { cause: b });
      (b as Error & { extra?: unknown }).extra = refused('127.0.0.1', 5999);
      const chain = walkErrorChain(c);
      expect(chain.cycle).toBe(true);
      expect(chain.visited).toBe(3);
      expect(chain.found).toEqual([]);

      const d = await explain(c);
      expect(d.cause).toBe('unknown');
      expect(d.summary).toBe(
        'Not a socket error: TypeError: fetch failed; nothing in it came from a socket call or a name lookup',
      );
      expect(d.details).toContain(
        'The error chain links back to itself (a .cause cycle); each error was read once.',
      );
      expect(d.details[1]).toBe(
        'Looked at 3 errors through .cause and .errors: TypeError: fetch failed; Error: middle; Error: outer.',
      );
    },
  );

  netnsIt(
    'a chain deeper than the walk stops there, says so, and still explains nothing it did not read',
    async () => {
      let err: Error = refused('127.0.0.1', 5999);
      for (let i = 0; i < MAX_DEPTH + 5; i++) err = new Error(`wrap ${i}`, { cause: err });
      const chain = walkErrorChain(err);
      expect(chain.truncated).toBe(true);
      expect(chain.found).toEqual([]);
      const d = await explain(err);
      expect(d.cause).toBe('unknown');
      expect(
        d.details.some((line) => line.startsWith('The error chain is deeper or wider than explain() walks')),
      ).toBe(true);
    },
  );

  netnsIt('an AggregateError of 1,000 members reads at most MAX_VISITED of them', () => {
    const members = Array.from({ length: 1000 }, (_, i) => refused('127.0.0.1', 1000 + i));
    const chain = walkErrorChain(new AggregateError(members, 'many'));
    expect(chain.visited).toBe(MAX_VISITED);
    expect(chain.found).toHaveLength(MAX_VISITED - 1);
    expect(chain.truncated).toBe(true);
  });

  netnsIt(
    'the same failure twice among the members is explained once, as the one failure it is',
    async () => {
      const err = Object.assign(
        new AggregateError([refused('127.0.0.1', 5999), refused('127.0.0.1', 5999)], 'twice'),
        { code: 'ECONNREFUSED' },
      );
      const d = await explain(err);
      expect(d.cause).toBe('connection-refused');
      expect(d.evidence['members']).toBeUndefined();
      expect(d.summary).toBe(
        'Connection refused by 127.0.0.1:5999: nothing listens on port 5999 in this network namespace',
      );
    },
  );

  netnsIt('an AggregateError whose members are no socket errors is explained by its own code', async () => {
    const err = Object.assign(new AggregateError([new Error('a'), new Error('b')], 'all failed'), {
      code: 'ECONNREFUSED',
    });
    const d = await explain(err);
    expect(d.cause).toBe('connection-refused');
    expect(d.summary).toBe(
      'Connection refused, and the error names no destination: pass { host, port } as context to see what listens there',
    );
    const named = await explain(err, { host: '127.0.0.1', port: 5999 });
    expect(named.summary).toBe(
      'Connection refused by 127.0.0.1:5999: nothing listens on port 5999 in this network namespace',
    );
  });

  netnsIt(
    'members with different causes: the refusal leads the lookup failure, as CAUSE_RANK orders them',
    async () => {
      const lookup = Object.assign(new Error('getaddrinfo ENOTFOUND db.example'), {
        code: 'ENOTFOUND',
        errno: -3008,
        syscall: 'getaddrinfo',
        hostname: 'db.example',
      });
      const err = new AggregateError([lookup, refused('127.0.0.1', 5999)], 'mixed');
      const d = await explain(err);
      expect(d.cause).toBe('connection-refused');
      expect(d.summary).toContain('(2 attempts failed: name-not-resolved and connection-refused)');
      expect(d.details).toContain(
        '  errors[0]: name-not-resolved: Cannot resolve db.example: the name has no address (ENOTFOUND)',
      );
      expect(CAUSE_RANK['source-not-local']).toBeLessThan(CAUSE_RANK['connection-refused']);
      expect(CAUSE_RANK['connection-refused']).toBeLessThan(CAUSE_RANK['name-not-resolved']);
      expect(CAUSE_RANK.unknown).toBe(Math.max(...Object.values(CAUSE_RANK)));
    },
  );

  netnsIt('an error whose fields throw when read is explained from the rest, never a rejection', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    const withGetter = (key: string) => {
      const e = refused('127.0.0.1', 5999);
      Object.defineProperty(e, key, { get: boom });
      return e;
    };
    // A getter on each field explain() reads: the others still lead to the cause, or to unknown.
    for (const key of ['code', 'syscall', 'message', 'address', 'errors', 'cause', 'name', 'stack']) {
      const d = await explain(withGetter(key));
      expect(typeof d.cause, key).toBe('string');
    }
    expect((await explain(withGetter('message'))).cause).toBe('connection-refused');
    // A Proxy whose every trap throws, one revoked, and one inside fetch's wrapper.
    const hostile = new Proxy({}, { get: boom, has: boom, ownKeys: boom, getPrototypeOf: boom });
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    for (const e of [hostile, revocable.proxy, new TypeError('fetch failed', { cause: hostile })])
      expect((await explain(e)).cause).toBe('unknown');
    await expect(explain(null)).rejects.toThrow(/got null$/);
  });
});
