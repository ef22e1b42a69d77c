// A real Prometheus (Debian's package) scrapes `safebind exporter` inside the test's namespace: the
// `up` series and a pool series with the namespace's labels appear, and a shipped alert rule
// (docs/prometheus/safebind-alerts.yml, `for:` set to 0s) fires for a pod near exhaustion. The
// shipped rules pass `promtool check rules`; the Grafana dashboard queries only metrics the exporter
// writes.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, onTestFinished, type TestContext } from 'vitest';
import { buildBin, root } from './cli.js';
import { parseExposition, startExporter, startPod, until } from './exporter-helpers.js';
import { netnsIt } from '../helpers/netns.js';
import { unmet } from '../helpers/prerequisite.js';
import { tempDir } from '../helpers/temp-dir.js';

beforeAll(() => buildBin(), 180_000);

const RULES = join(root, 'docs', 'prometheus', 'safebind-alerts.yml');
const DASHBOARD = join(root, 'docs', 'prometheus', 'safebind-dashboard.json');

function need(ctx: TestContext, binary: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary}`]).status !== 0)
    unmet(ctx, `${binary} is not installed (.ci/run installs the prometheus package)`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;

async function query(api: string, promql: string): Promise<Vector> {
  const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: Vector } };
  if (body.status !== 'success') throw new Error(JSON.stringify(body));
  return body.data.result;
}

describe('Prometheus and safebind exporter', () => {
  netnsIt(
    "Prometheus scrapes the exporter, sees the pod's pool with its labels, and the near-exhaustion alert fires",
    async (ns, ctx) => {
      need(ctx, 'prometheus');
      need(ctx, 'promtool');
      const pod = await startPod(ns, '40000 40009', 9);
      const exporter = await startExporter(['--netns', pod.path, '--top', '5']);
      const dir = tempDir('safebind-prometheus-');
      // The shipped rules, evaluated at once instead of after their `for:` duration.
      const rules = join(dir, 'rules.yml');
      writeFileSync(rules, readFileSync(RULES, 'utf8').replace(/^(\s+for:) \S+$/gm, '$1 0s'));
      const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
      const port = await freePort();
      writeFileSync(
        join(dir, 'prometheus.yml'),
        `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${JSON.stringify(rules)}]
scrape_configs:
  - job_name: safebind
    static_configs: [{ targets: [${JSON.stringify(exporter.address)}] }]
`,
      );
      const prom = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      prom.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
      onTestFinished(() => {
        prom.kill('SIGKILL');
      });
      const api = `http://127.0.0.1:${port}`;
      try {
        const up = await until('up{job="safebind"} == 1', 10_000, async () => {
          const v = await query(api, 'up{job="safebind"}');
          return v[0]?.value[1] === '1' ? v : undefined;
        });
        expect(up[0]?.metric.instance).toBe(exporter.address);
        const ratio = await until("the pod's pool series", 5_000, async () => {
          const v = await query(
            api,
            `safebind_port_pool_usage_ratio{netns="${pod.inode}",destination="127.0.0.1:7000"}`,
          );
          return v.length ? v : undefined;
        });
        expect(ratio[0]?.value[1]).toBe('0.9');
        expect(ratio[0]?.metric.job).toBe('safebind');
        // An empty label value is no label at all to Prometheus: an unknown pod is simply absent.
        expect(Object.keys(ratio[0]?.metric ?? {})).not.toContain('pod');
        const alert = await until('SafebindSourcePortPoolNearExhaustion firing', 8_000, async () => {
          const res = await fetch(`${api}/api/v1/alerts`);
          const body = (await res.json()) as {
            data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
          };
          return body.data.alerts.find(
            (a) => a.labels.alertname === 'SafebindSourcePortPoolNearExhaustion' && a.state === 'firing',
          );
        });
        expect(alert.labels).toMatchObject({
          netns: String(pod.inode),
          destination: '127.0.0.1:7000',
          severity: 'critical',
        });
      } catch (e) {
        throw new Error(`${(e as Error).message}\nprometheus log:\n${log.slice(-2000)}`);
      }
    },
    25_000,
  );

  netnsIt(
    'the shipped rules pass promtool, and the dashboard queries only metrics the exporter writes',
    async (ns, ctx) => {
      need(ctx, 'promtool');
      const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toContain('SUCCESS: 4 rules found');

      const pod = await startPod(ns, '40000 40009', 2);
      const exporter = await startExporter(['--netns', pod.path]);
      // Two scrapes: the exhaustion forecast has no sample until the second.
      const written = new Set(parseExposition(await exporter.metrics()).map((s) => s.name));
      await new Promise((ok) => setTimeout(ok, 200));
      for (const s of parseExposition(await exporter.metrics())) written.add(s.name);
      expect(written).toContain('safebind_port_pool_exhaustion_seconds');
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
        templating: { list: Array<{ query: { query: string } }> };
      };
      const exprs = [
        ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
        ...dashboard.templating.list.map((v) => v.query.query),
      ];
      const queried = new Set(exprs.flatMap((e) => e.match(/\bsafebind_[a-z_]+/g) ?? []));
      expect(queried.size).toBeGreaterThanOrEqual(6);
      for (const name of queried) expect(written, name).toContain(name);
    },
  );
});
