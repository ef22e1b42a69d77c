// `safebind exporter` over several network namespaces (issue 16): two "pods", each a namespace with
// its own processes and its own ip_local_port_range, one near exhaustion. Each namespace is read by
// a thread of the exporter that enters it; the exporter's own threads never move. Its sysctls are
// opened from that thread, so each pod's range is its own (docs/kernel-facts.md).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, onTestFinished } from 'vitest';
import { buildBin, runCli } from './cli.js';
import { parseExposition, startExporter, startPod, type ParsedSample } from './exporter-helpers.js';
import { connectFromSources } from '../helpers/sources.js';
import { netnsIt } from '../helpers/netns.js';
import { unmet } from '../helpers/prerequisite.js';

beforeAll(() => buildBin(), 180_000);

const find = (samples: ParsedSample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** The mount point of the cgroup v2 hierarchy, or undefined. */
function cgroup2Root(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.startsWith('cgroup2 ')) return left?.split(' ')[4];
  }
  return undefined;
}

describe('safebind exporter', () => {
  netnsIt(
    'labels each pod by its namespace inode, reads each pod its own port range, and never moves its own threads',
    async (ns) => {
      const near = await startPod(ns, '40000 40009', 9);
      const calm = await startPod(ns, '40000 40999', 3);
      const exporter = await startExporter([
        ...['--netns', near.path, '--netns', calm.path, '--top', '5'],
        ...['--dest', '127.0.0.1:7000', '--dest', '[::1]:9'],
      ]);
      const samples = parseExposition(await exporter.metrics());

      const ratio = (pod: typeof near) =>
        find(samples, 'safebind_port_pool_usage_ratio', {
          netns: String(pod.inode),
          destination: '127.0.0.1:7000',
        });
      expect(ratio(near).map((s) => s.value)).toEqual([0.9]);
      expect(ratio(calm).map((s) => s.value)).toEqual([0.003]);
      // An asked destination with no socket is still exported, at 0; each pod's busiest is the asked one.
      for (const pod of [near, calm]) {
        const pools = find(samples, 'safebind_port_pool_in_use', { netns: String(pod.inode) });
        expect(pools.map((s) => s.labels.destination).sort()).toEqual(['127.0.0.1:7000', '[::1]:9']);
        expect(pools.find((s) => s.labels.destination === '[::1]:9')?.value).toBe(0);
      }
      expect(find(samples, 'safebind_port_range_size', { netns: String(near.inode) })[0]?.value).toBe(10);
      expect(find(samples, 'safebind_port_range_size', { netns: String(calm.inode) })[0]?.value).toBe(1000);
      // The audit across namespaces: two ranges, one tcp_tw_reuse (both pods at the kernel's default).
      const distinct = (sysctl: string) =>
        find(samples, 'safebind_netns_sysctl_distinct_values', { sysctl }).map((s) => s.value);
      expect(distinct('net.ipv4.ip_local_port_range')).toEqual([2]);
      expect(distinct('net.ipv4.tcp_tw_reuse')).toEqual([1]);
      // The pods' own processes: a listener and both ends of each connection.
      expect(
        find(samples, 'safebind_sockets', { netns: String(near.inode), state: 'ESTABLISHED' })[0]?.value,
      ).toBe(18);
      expect(
        find(samples, 'safebind_sockets', { netns: String(calm.inode), state: 'LISTEN' })[0]?.value,
      ).toBe(1);
      // No cgroup names a container for these processes: the labels stay empty.
      for (const s of samples.filter((x) => x.labels.netns !== undefined)) {
        expect(s.labels.container).toBe('');
        expect(s.labels.pod).toBe('');
      }
      // Every thread of the exporter is still in the namespace it started in.
      const own = statSync('/proc/self/ns/net').ino;
      for (const tid of readdirSync(`/proc/${exporter.pid}/task`))
        expect(statSync(`/proc/${exporter.pid}/task/${tid}/ns/net`).ino, `thread ${tid}`).toBe(own);
    },
    30_000,
  );

  netnsIt(
    "--netns all finds named namespaces and the exporter's own, each once",
    async (ns) => {
      const pod = await startPod(ns, '40000 40009', 2);
      const exporter = await startExporter(['--netns', 'all', '--netns', pod.path, '--top', '1']);
      const samples = parseExposition(await exporter.metrics());
      const read = samples.filter((s) => s.name === 'safebind_exporter_netns_read');
      const inodes = read.map((s) => s.labels.netns);
      expect(new Set(inodes).size).toBe(inodes.length);
      expect(inodes).toContain(String(pod.inode));
      expect(inodes).toContain(String(statSync('/proc/self/ns/net').ino));
      expect(find(samples, 'safebind_exporter_netns_read', { netns: String(pod.inode) })[0]?.value).toBe(1);
    },
    30_000,
  );

  netnsIt(
    'a process in a kubepods cgroup labels its namespace with the container id and the pod uid',
    async (ns, ctx) => {
      const root = cgroup2Root();
      if (!root) unmet(ctx, 'no cgroup v2 hierarchy is mounted');
      const top = join(root, `sbtest-exporter-${process.pid}-${randomBytes(3).toString('hex')}`);
      try {
        mkdirSync(top);
      } catch (e) {
        unmet(ctx, `cannot create a cgroup under ${root}: ${(e as Error).message}`);
      }
      const uid = randomUUID();
      const container = randomBytes(32).toString('hex');
      const dirs = [
        top,
        join(top, 'kubepods.slice'),
        join(top, 'kubepods.slice', 'kubepods-besteffort.slice'),
        join(
          top,
          'kubepods.slice',
          'kubepods-besteffort.slice',
          `kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice`,
        ),
      ];
      dirs.push(join(dirs[3]!, `cri-containerd-${container}.scope`));
      for (const d of dirs.slice(1)) mkdirSync(d);
      const pod = await startPod(ns, '40000 40009', 4);
      // Registered after the pod's kill, so it runs first: the process must be gone before rmdir.
      onTestFinished(async () => {
        process.kill(pod.pid, 'SIGKILL');
        // A killed task leaves its cgroup busy (EBUSY) until it is reaped: retry for up to 2 s.
        for (const d of [...dirs].reverse()) {
          for (let i = 0; ; i++) {
            try {
              rmdirSync(d);
              break;
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || i > 100) throw e;
              await new Promise((ok) => setTimeout(ok, 20));
            }
          }
        }
      });
      writeFileSync(join(dirs[4]!, 'cgroup.procs'), String(pod.pid));
      const other = await startPod(ns, '40000 40009', 1);
      const exporter = await startExporter(['--netns', pod.path, '--netns', other.path]);
      const samples = parseExposition(await exporter.metrics());
      const labelled = find(samples, 'safebind_port_pool_in_use', { netns: String(pod.inode) });
      expect(labelled.map((s) => [s.labels.container, s.labels.pod, s.value])).toEqual([[container, uid, 4]]);
      const unlabelled = find(samples, 'safebind_port_pool_in_use', { netns: String(other.inode) });
      expect(unlabelled.map((s) => [s.labels.container, s.labels.pod, s.value])).toEqual([['', '', 1]]);
    },
    30_000,
  );

  netnsIt(
    "connections from two source addresses are two pools: a destination's figures are its fullest source's",
    async (ns) => {
      // The exporters first, their listeners on ports of the default range: a client socket whose
      // port is a listening port reads as the server side of a connection, so the small range below
      // must not hold one.
      const exporters = [await startExporter(['--dest', '127.0.0.1:7200']), await startExporter([])];
      ns.sysctl('net.ipv4.ip_local_port_range', '61000 61009');
      const server = net.createServer((s) => s.on('error', () => {}));
      await new Promise<void>((ok) => server.listen(7200, '127.0.0.1', ok));
      onTestFinished(() => {
        server.close();
      });
      await connectFromSources(7200, [
        ['127.0.0.2', 6],
        ['127.0.0.3', 5],
      ]);
      // Asked for, then found among the busiest.
      for (const exporter of exporters) {
        const samples = parseExposition(await exporter.metrics());
        const of = (name: string) =>
          find(samples, name, { destination: '127.0.0.1:7200' }).map((s) => s.value);
        // 11 connections toward a pool of 10 ports: 6 of the fullest source's own 10, not 110 %.
        expect(of('safebind_port_pool_in_use')).toEqual([6]);
        expect(of('safebind_port_pool_usage_ratio')).toEqual([0.6]);
      }
    },
  );

  netnsIt(
    'run as an unprivileged user, it reads its own namespace (no setns, which needs CAP_SYS_ADMIN)',
    async () => {
      const exporter = await startExporter(
        [],
        ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
      );
      expect(readFileSync(`/proc/${exporter.pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
      const samples = parseExposition(await exporter.metrics());
      expect(samples.filter((s) => s.name === 'safebind_exporter_netns_read').map((s) => s.value)).toEqual([
        1,
      ]);
      // Its own listener and the test's connection to it, read from its own thread.
      expect(find(samples, 'safebind_sockets', { state: 'LISTEN' })[0]?.value).toBeGreaterThanOrEqual(1);
      expect(find(samples, 'safebind_port_range_size', {})[0]?.value).toBeGreaterThan(0);
    },
  );

  netnsIt(
    'a namespace deleted after start is left out of the next scrape; the others are still read',
    async (ns) => {
      const gone = await startPod(ns, '40000 40009', 1);
      const stays = await startPod(ns, '40000 40009', 2);
      const exporter = await startExporter(['--netns', gone.path, '--netns', stays.path]);
      const read = (text: string) =>
        parseExposition(text)
          .filter((s) => s.name === 'safebind_exporter_netns_read')
          .map((s) => s.labels.netns)
          .sort();
      expect(read(await exporter.metrics())).toEqual([String(gone.inode), String(stays.inode)].sort());
      process.kill(gone.pid, 'SIGKILL');
      ns.run(`ip netns del ${gone.name}`);
      expect(read(await exporter.metrics())).toEqual([String(stays.inode)]);
    },
  );

  netnsIt(
    'bad flags exit 2 with one line, a destination given twice is written once, and SIGTERM ends the exporter with status 0',
    async () => {
      for (const [args, says] of [
        [['--top', 'many'], '--top many'],
        [['--listen', 'nowhere'], '--listen'],
        [['--netns', 'relative/path'], '--netns relative/path'],
        [['--netns', '/nonexistent/ns'], '--netns'],
        [['--dest', 'db.internal:5432'], '--dest db.internal:5432: give an IP address, not a name'],
        [['--dest', '[fd00::1]:0'], '--dest [fd00::1]:0: port 0'],
        // A file that exists but is no namespace would read as a namespace that cannot be entered.
        [['--netns', '/etc/passwd'], '--netns /etc/passwd: not a namespace file'],
        [['--netns', '/proc'], '--netns /proc: not a namespace file'],
      ] as const) {
        const run = await runCli(['exporter', ...args]);
        expect(run.status, args.join(' ')).toBe(2);
        expect(run.stderr).toMatch(new RegExp(`^safebind: .*${says.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
      }
      // The same destination twice: its series once each (Prometheus refuses duplicate series).
      const exporter = await startExporter(['--dest', '127.0.0.1:5433', '--dest', '127.0.0.1:5433']);
      const exited = new Promise<number | null>((resolve) => {
        const poll = setInterval(() => {
          try {
            process.kill(exporter.pid, 0);
          } catch {
            clearInterval(poll);
            resolve(0);
          }
        }, 20);
      });
      const text = await exporter.metrics();
      expect(text).toContain('safebind_sockets');
      const series = text.split('\n').filter((l) => l.includes('destination="127.0.0.1:5433"'));
      expect(series.map((l) => l.split('{')[0])).toEqual([
        'safebind_port_pool_in_use',
        'safebind_port_pool_usage_ratio',
      ]);
      process.kill(exporter.pid, 'SIGTERM');
      expect(await exited).toBe(0);
    },
    30_000,
  );
});
