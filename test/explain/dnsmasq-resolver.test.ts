// name-not-resolved against a real resolver (issue 13): dnsmasq from Debian serves DNS inside the
// test's namespace, and the lookup runs in a child that has its own /etc/resolv.conf pointing at it
// (a private mount namespace), so what the child's explain() reads as the resolver configuration is
// what its getaddrinfo used. A name dnsmasq answers NXDOMAIN for gives ENOTFOUND ("the name has no
// address"); the same lookup with dnsmasq stopped gives EAI_AGAIN ("the resolver did not answer").
import { join } from 'node:path';
import { beforeAll, describe, expect, type TestContext } from 'vitest';
import type { Diagnosis } from '../../lib/types.js';
import { bin, buildBin, root } from '../cli/cli.js';
import type { Netns } from '../helpers/netns.js';
import { netnsIt } from '../helpers/netns.js';
import { withResolverFiles, type ResolverFiles } from '../helpers/private-files.js';
import { listening, need, start, type Started } from '../helpers/real-software.js';

beforeAll(() => buildBin(), 180_000);

/** dnsmasq's own address in the namespace: not 127.0.0.1, so the evidence cannot match by chance. */
const NAMESERVER = '127.0.0.54';
const FILES: ResolverFiles = {
  resolvConf: `nameserver ${NAMESERVER}\nsearch svc.test\noptions timeout:1 attempts:1\n`,
  hosts: '127.0.0.1 localhost\n',
};
const FETCH_EXPLAIN = join(root, 'test', 'explain', 'fixtures', 'fetch-explain.mjs');

/** dnsmasq answering for `.test` from its own records only: db.test is 127.0.0.9, the rest NXDOMAIN. */
async function dnsmasq(ns: Netns, ctx: TestContext): Promise<Started> {
  const binary = need(ctx, 'dnsmasq');
  const server = start([
    binary,
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    `--listen-address=${NAMESERVER}`,
    '--bind-interfaces',
    '--port=53',
    '--local=/test/',
    '--host-record=db.test,127.0.0.9',
    '--log-queries',
    '--log-facility=-',
    '--pid-file=',
    '--user=root',
  ]);
  await listening(ns, 53, 1, 'udp');
  return server;
}

interface PreflightReport {
  ok: boolean;
  checks: Array<{ target: string; ok: boolean; diagnosis?: Diagnosis }>;
}

async function preflightConnect(target: string): Promise<PreflightReport> {
  const run = await withResolverFiles(FILES, [
    process.execPath,
    bin,
    'preflight',
    '--connect',
    target,
    '--json',
  ]);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as PreflightReport;
}

/** The resolver configuration the child read, as the diagnosis carries it. */
function expectResolverRead(d: Diagnosis | undefined): void {
  expect(d?.evidence['resolver']).toMatchObject({
    resolvConf: {
      path: '/etc/resolv.conf',
      nameservers: [NAMESERVER],
      search: ['svc.test'],
      options: ['timeout:1', 'attempts:1'],
    },
    hosts: { path: '/etc/hosts', matches: [] },
  });
  expect(d?.details).toContain(
    `/etc/resolv.conf: nameserver ${NAMESERVER}; search svc.test; options timeout:1 attempts:1.`,
  );
}

describe('name-not-resolved against a real dnsmasq in the namespace', () => {
  netnsIt(
    'dnsmasq answering NXDOMAIN gives ENOTFOUND, explained as a name with no address; the resolver configuration read is the one the lookup used',
    async (ns, ctx) => {
      const server = await dnsmasq(ns, ctx);

      // The resolver works: a name it knows resolves and the connect check passes.
      const known = await preflightConnect('db.test:5432');
      expect(known.checks[0]).toMatchObject({ target: 'db.test:5432', ok: true });

      const report = await preflightConnect('missing.test:5432');
      expect(report.ok).toBe(false);
      const d = report.checks[0]?.diagnosis;
      expect(d?.cause).toBe('name-not-resolved');
      expect(d?.code).toBe('ENOTFOUND');
      expect(d?.summary).toBe('Cannot resolve missing.test: the name has no address (ENOTFOUND)');
      expect(d?.evidence).toMatchObject({ name: 'missing.test', temporary: false });
      expectResolverRead(d);
      // dnsmasq itself was asked and answered so.
      expect(server.output()).toMatch(/query\[A\] missing\.test from 127\.0\.0\.1/);
      expect(server.output()).toMatch(/config missing\.test is NXDOMAIN/);

      // The same through the library: fetch's rejection, explained in the process that made it.
      const fetched = await withResolverFiles(FILES, [
        process.execPath,
        FETCH_EXPLAIN,
        join(root, 'dist', 'index.js'),
        'http://missing.test:8080/',
      ]);
      const out = JSON.parse(fetched.stdout) as { cause: { code: string }; diagnosis: Diagnosis };
      expect(out.cause.code).toBe('ENOTFOUND');
      expect(out.diagnosis.cause).toBe('name-not-resolved');
      expect(out.diagnosis.summary).toBe('Cannot resolve missing.test: the name has no address (ENOTFOUND)');
      expectResolverRead(out.diagnosis);
    },
    30_000,
  );

  netnsIt(
    'with dnsmasq stopped the same lookup gives EAI_AGAIN, explained as the resolver not answering, naming the nameserver read',
    async (ns, ctx) => {
      const server = await dnsmasq(ns, ctx);
      const before = await preflightConnect('db.test:5432');
      expect(before.checks[0]?.ok).toBe(true);

      process.kill(server.pid, 'SIGTERM');
      await server.exited;
      expect(ns.sh("ss -Huln 'sport = :53'").trim()).toBe('');

      const report = await preflightConnect('db.test:5432');
      const d = report.checks[0]?.diagnosis;
      expect(d?.cause).toBe('name-not-resolved');
      expect(d?.code).toBe('EAI_AGAIN');
      expect(d?.summary).toBe(
        `Cannot resolve db.test: the resolver did not answer (EAI_AGAIN, a temporary failure); nameserver ${NAMESERVER}`,
      );
      expect(d?.evidence).toMatchObject({ name: 'db.test', temporary: true });
      expectResolverRead(d);
      const commands = d?.remediation.flatMap((r) => r.commands ?? []);
      expect(commands).toEqual(['getent hosts db.test', `ip route get ${NAMESERVER}`]);
    },
    30_000,
  );
});
