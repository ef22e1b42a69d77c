// The audits of issue 16 against host states really made in namespaces: a listener inside a small
// ephemeral range (doctor prints the exact reserved-ports line, and pasting it clears the warning),
// conntrack as this kernel has it (read values checked against /proc; "not loaded" only where the
// files are absent), and named namespaces whose port ranges differ, each read by a child that
// entered it with `ip netns exec`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { beforeAll, expect, onTestFinished } from 'vitest';
import { auditHost } from '../../lib/api/audits.js';
import { compareNamespaceSysctls, divergenceWarning } from '../../lib/diagnose/netns-sysctls-audit.js';
import { readConntrack } from '../../lib/host/conntrack.js';
import { readNamedNamespaceSysctls } from '../../lib/host/named-netns.js';
import { registerMetrics, registerNamespaceAuditMetrics } from '../../lib/prometheus.js';
import { buildBin, runCli } from '../cli/cli.js';
import { netnsIt } from '../helpers/netns.js';
import { unmet } from '../helpers/prerequisite.js';
import { need } from '../helpers/real-software.js';

beforeAll(() => buildBin(), 180_000);

async function listen(port: number): Promise<Server> {
  const server = createServer((s) => s.on('error', () => {}));
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
  onTestFinished(() => new Promise<void>((ok) => server.close(() => ok())));
  return server;
}

netnsIt(
  'a listener inside the ephemeral range: the warning, and the exact reserved-ports line that clears it',
  async (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '40000 40999');
    ns.sysctl('net.ipv4.ip_local_reserved_ports', '40100');
    await listen(40500);
    await listen(39000); // below the range: not reported

    const audit = auditHost();
    expect(audit.reservedPorts?.exposed).toEqual([{ protocol: 'tcp', port: 40500, address: '127.0.0.1' }]);
    expect(audit.reservedPorts?.merged).toBe('40100,40500');
    const commands = [
      'sysctl -w net.ipv4.ip_local_reserved_ports=40100,40500',
      "echo 'net.ipv4.ip_local_reserved_ports = 40100,40500' > /etc/sysctl.d/90-ipv4-ip-local-reserved-ports.conf",
    ];
    expect(audit.reservedPorts?.commands).toEqual(commands);

    const human = await runCli(['doctor'], { NO_COLOR: '1' });
    expect(human.status).toBe(0);
    expect(human.stdout).toContain(
      'listening port tcp 40500 is inside the ephemeral range 40000-40999 and not reserved',
    );
    expect(human.stdout).toContain(commands.join(' && '));
    const json = JSON.parse((await runCli(['doctor', '--json'])).stdout);
    expect(json.audits.reservedPorts.commands).toEqual(commands);

    // Pasting the first command (inside this namespace) clears the warning.
    ns.sh(commands[0]!);
    expect(readFileSync('/proc/sys/net/ipv4/ip_local_reserved_ports', 'utf8').trim()).toBe('40100,40500');
    expect(auditHost().reservedPorts?.exposed).toEqual([]);
    const after = await runCli(['doctor'], { NO_COLOR: '1' });
    expect(after.stdout).not.toContain('not reserved:');
    expect(after.stdout).toContain('no listening port inside 40000-40999 is left unreserved');
  },
  60_000,
);

netnsIt(
  'conntrack: read as /proc has it, or "not loaded" exactly when its files are absent',
  async () => {
    const r = readConntrack();
    const countFile = '/proc/sys/net/netfilter/nf_conntrack_count';
    if (!existsSync(countFile)) {
      expect(r).toMatchObject({ loaded: false });
      expect((await runCli(['doctor'], { NO_COLOR: '1' })).stdout).toContain('conntrack: not loaded');
      return;
    }
    expect(r.loaded).toBe(true);
    if (r.loaded !== true) return;
    // Independent reading: the shell's own arithmetic sums each CPU's hex field.
    const sum = (column: string) =>
      Number(
        execSh(
          `hdr=$(head -1 /proc/net/stat/nf_conntrack); i=1; for f in $hdr; do [ "$f" = ${column} ] && break; i=$((i+1)); done; ` +
            `tail -n +2 /proc/net/stat/nf_conntrack | { t=0; while read -r line; do set -- $line; eval v=\\\${$i}; t=$((t + 0x$v)); done; echo $t; }`,
        ),
      );
    expect(r.count).toBe(Number(readFileSync(countFile, 'utf8')));
    expect(r.max).toBe(Number(readFileSync('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8')));
    expect(r.insertFailed).toBe(sum('insert_failed'));
    expect(r.drop).toBe(sum('drop'));
    expect(r.earlyDrop).toBe(sum('early_drop'));
    const out = (await runCli(['doctor'], { NO_COLOR: '1' })).stdout;
    expect(out).toContain(`conntrack: ${r.count} of ${r.max!.toLocaleString('en-US')} entries`);
  },
  60_000,
);

netnsIt(
  'conntrack with flows really tracked: an nftables rule in the namespace, 50 connections, counted by the reader, doctor and the gauge',
  async (ns, ctx) => {
    need(ctx, 'nft');
    if (!existsSync('/proc/sys/net/netfilter/nf_conntrack_count')) unmet(ctx, 'nf_conntrack is not loaded');
    // A rule that asks for a connection's state makes the kernel track this namespace's flows (it
    // tracks none until a ruleset needs it: the count starts at 0).
    expect(readConntrack()).toMatchObject({ loaded: true, count: 0 });
    ns.sh(
      'nft add table inet sbtrack && ' +
        "nft add chain inet sbtrack out '{ type filter hook output priority 0; }' && " +
        'nft add rule inet sbtrack out ct state new counter',
    );
    const server = await listen(39600);
    const clients = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<Socket>((ok, fail) => {
            const c = connect(39600, '127.0.0.1', () => ok(c)).once('error', fail);
          }),
      ),
    );
    onTestFinished(() => clients.forEach((c) => c.destroy()));
    expect(server.listening).toBe(true);

    const r = readConntrack();
    expect(r).toMatchObject({ loaded: true, count: 50 });
    if (r.loaded !== true) return;
    expect(r.count).toBe(Number(readFileSync('/proc/sys/net/netfilter/nf_conntrack_count', 'utf8')));
    const out = (await runCli(['doctor'], { NO_COLOR: '1' })).stdout;
    expect(out).toContain(`conntrack: 50 of ${r.max!.toLocaleString('en-US')} entries`);
    const registry = new Registry();
    registerMetrics(registry);
    const metrics = await registry.metrics();
    expect(metrics).toContain('safebind_conntrack_loaded 1');
    expect(metrics).toContain('safebind_conntrack_entries 50');
  },
  60_000,
);

netnsIt(
  'named namespaces with different port ranges: read from inside each, compared, printed and exported',
  async (ns) => {
    const a = ns.peer();
    const b = ns.peer();
    execSh(`ip netns exec ${a} sysctl -qw net.ipv4.ip_local_port_range="20000 29999"`);
    execSh(`ip netns exec ${b} sysctl -qw net.ipv4.tcp_tw_reuse=1`);
    const named = readNamedNamespaceSysctls();
    const mine = named.readings.filter((r) => r.netns === a || r.netns === b);
    expect(mine).toEqual(
      [
        { netns: a, ipLocalPortRange: [20000, 29999], tcpTwReuse: 2 },
        { netns: b, ipLocalPortRange: [32768, 60999], tcpTwReuse: 1 },
      ].sort((x, y) => x.netns.localeCompare(y.netns)),
    );
    const divergences = compareNamespaceSysctls(mine);
    expect(divergences.map((d) => d.sysctl)).toEqual([
      'net.ipv4.ip_local_port_range',
      'net.ipv4.tcp_tw_reuse',
    ]);

    const out = (await runCli(['doctor'], { NO_COLOR: '1' })).stdout;
    expect(out).toContain('net.ipv4.ip_local_port_range differs between network namespaces');
    expect(out).toMatch(new RegExp(`20000-29999 in [^;]*${a}`));

    // Run inside `a`, doctor reads `a` as 'this namespace' and not again under its name.
    const inside = await runCli(['doctor', '--json'], {}, 60_000, ['ip', 'netns', 'exec', a]);
    const readings = (
      JSON.parse(inside.stdout) as { audits: { namespaces: { readings: Array<{ netns: string }> } } }
    ).audits.namespaces.readings.map((r) => r.netns);
    expect(readings).toContain('this namespace');
    expect(readings).toContain(b);
    expect(readings).not.toContain(a);

    const registry = new Registry();
    registerNamespaceAuditMetrics(registry, () =>
      readNamedNamespaceSysctls().readings.filter((r) => r.netns === a || r.netns === b),
    );
    const text = await registry.metrics();
    expect(text).toContain('safebind_netns_sysctl_distinct_values{sysctl="net.ipv4.ip_local_port_range"} 2');
    expect(text).toContain('safebind_netns_sysctl_distinct_values{sysctl="net.ipv4.tcp_tw_reuse"} 2');
    expect(divergenceWarning(divergences[0]!)).toContain(`20000-29999 in ${a}`);
  },
  60_000,
);

function execSh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
}
