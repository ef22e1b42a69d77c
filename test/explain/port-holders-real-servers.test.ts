// port-in-use against real nginx and HAProxy from Debian (issue 13, item 2): only the sockets that
// really conflict by the kernel's rule are blamed. Debian's default nginx site listens on 0.0.0.0:80
// and on [::]:80 with IPV6_V6ONLY; HAProxy's `bind :::80 v6only` sits beside nginx on 0.0.0.0:80.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { expect, type TestContext } from 'vitest';
import { explain } from '../../lib/index.js';
import type { PortHolder } from '../../lib/host/types.js';
import type { Diagnosis } from '../../lib/types.js';
import { netnsIt } from '../helpers/netns.js';
import { listening, need, start, startHaproxy } from '../helpers/real-software.js';
import { tempDir } from '../helpers/temp-dir.js';
import { commands, listenError } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

/** nginx with one server block, one process (master_process off), files in a temp folder. */
function nginx(ctx: TestContext, listens: string[]): number {
  const binary = need(ctx, 'nginx');
  const dir = tempDir('safebind-nginx-');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { ${listens.map((l) => `listen ${l};`).join(' ')} return 204; }
}
`,
  );
  return start([binary, '-e', `${dir}/error.log`, '-p', dir, '-c', conf]).pid;
}

/** HAProxy in the foreground (-db) with one frontend bound as `bind`. */
function haproxy(ctx: TestContext, bind: string): number {
  return startHaproxy(ctx, bind).pid;
}

/** The pids a diagnosis tells the operator to kill. */
function killed(d: Diagnosis): number[] {
  return commands(d)
    .filter((c) => c.startsWith('kill '))
    .map((c) => Number(c.slice(5)));
}

async function explainListen(host: string, port: number): Promise<Diagnosis> {
  const err = await listenError(net.createServer(), port, host);
  expect(err.code).toBe('EADDRINUSE');
  return explain(err);
}

eachReader('port-in-use blames only the sockets that conflict, with real nginx and HAProxy', (kind) => {
  netnsIt(
    "Debian's default nginx site: a bind of 127.0.0.1:80 is blamed on 0.0.0.0:80, and [::]:80 is reported as IPV6_V6ONLY and not in the way",
    async (ns, ctx) => {
      const pid = nginx(ctx, ['80', '[::]:80']);
      await listening(ns, 80, 2);

      const d = await explainListen('127.0.0.1', 80);
      expect(d.cause).toBe('port-in-use');
      const holders = d.evidence['holders'] as PortHolder[];
      if (kind === 'no-addon') {
        // /proc/net/tcp6 does not show IPV6_V6ONLY: [::]:80 is not ruled out, and that is said.
        expect(holders.map((h) => `${h.local} ${h.pid}`)).toEqual([`0.0.0.0 ${pid}`, `:: ${pid}`]);
        expect(holders.find((h) => h.local === '::')?.v6only).toBeUndefined();
        expect(d.details.join('\n')).toContain('IPV6_V6ONLY of listening sockets');
        return;
      }
      expect(holders.map((h) => `${h.local} ${h.pid}`)).toEqual([`0.0.0.0 ${pid}`]);
      expect(d.evidence['notConflicting']).toEqual([
        expect.objectContaining({ local: '::', v6only: true, pid }),
      ]);
      expect(killed(d)).toEqual([pid]);
      expect(d.summary).toBe(
        `Cannot bind 127.0.0.1:80: port 80 is taken, nginx (pid ${pid}) listens on 0.0.0.0:80`,
      );
      expect(d.details.join('\n')).not.toMatch(/without IPV6_V6ONLY/);
      expect(d.details.join('\n')).toMatch(/\[::\]:80 \(IPV6_V6ONLY\)/);
    },
    20_000,
  );

  netnsIt(
    'nginx on 0.0.0.0:80 and HAProxy on :::80 v6only: IPv4 binds blame nginx only, IPv6 binds HAProxy only',
    async (ns, ctx) => {
      const nginxPid = nginx(ctx, ['0.0.0.0:80']);
      const haproxyPid = haproxy(ctx, ':::80 v6only');
      await listening(ns, 80, 2);

      const v4 = await explainListen('127.0.0.1', 80);
      expect(v4.cause).toBe('port-in-use');
      if (kind === 'no-addon') {
        // HAProxy's IPV6_V6ONLY is not in /proc/net/tcp6: it is not ruled out for an IPv4 bind.
        const v4Holders = v4.evidence['holders'] as PortHolder[];
        expect(v4Holders.map((h) => h.pid)).toEqual([nginxPid, haproxyPid]);
        expect(v4Holders.find((h) => h.pid === haproxyPid)?.v6only).toBeUndefined();
        expect(v4.details.join('\n')).toContain('IPV6_V6ONLY of listening sockets');
      } else {
        expect(killed(v4)).toEqual([nginxPid]);
        expect((v4.evidence['holders'] as PortHolder[]).map((h) => h.pid)).toEqual([nginxPid]);
        expect(v4.summary).toMatch(new RegExp(`nginx \\(pid ${nginxPid}\\) listens on 0\\.0\\.0\\.0:80$`));
      }

      const v6 = await explainListen('::1', 80);
      expect(v6.cause).toBe('port-in-use');
      expect(killed(v6)).toEqual([haproxyPid]);
      expect((v6.evidence['holders'] as PortHolder[]).map((h) => h.pid)).toEqual([haproxyPid]);
      expect(v6.summary).toMatch(new RegExp(`haproxy \\(pid ${haproxyPid}\\) listens on \\[::\\]:80$`));
    },
    20_000,
  );
});
