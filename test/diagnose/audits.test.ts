// The audits' pure parts, with literal readings.
import { describe, expect, it } from 'vitest';
import { conntrackWarnings } from '../../lib/diagnose/conntrack-audit.js';
import { compareNamespaceSysctls, divergenceWarning } from '../../lib/diagnose/netns-sysctls-audit.js';
import {
  auditReservedPorts,
  mergePortRanges,
  reservedPortsWarning,
} from '../../lib/diagnose/reserved-ports-audit.js';
import { sumStatColumns } from '../../lib/host/conntrack.js';

describe('auditReservedPorts', () => {
  it('reports listeners inside the range and not reserved, once per port, merged with the list', () => {
    const a = auditReservedPorts(
      [32768, 60999],
      [
        [40000, 40009],
        [50000, 50000],
      ],
      [
        { protocol: 'tcp', port: 40010, address: '0.0.0.0' },
        { protocol: 'tcp', port: 40010, address: '::' },
        { protocol: 'tcp', port: 40005, address: '0.0.0.0' }, // reserved already
        { protocol: 'tcp', port: 8080, address: '0.0.0.0' }, // below the range
        { protocol: 'tcp', port: 45000, address: '127.0.0.1' },
      ],
    );
    expect(a.exposed.map((l) => l.port)).toEqual([40010, 45000]);
    expect(a.merged).toBe('40000-40010,45000,50000');
    expect(a.commands).toEqual([
      'sysctl -w net.ipv4.ip_local_reserved_ports=40000-40010,45000,50000',
      "echo 'net.ipv4.ip_local_reserved_ports = 40000-40010,45000,50000' > /etc/sysctl.d/90-ipv4-ip-local-reserved-ports.conf",
    ]);
    expect(reservedPortsWarning(a, [32768, 60999])).toContain(
      'listening ports tcp 40010, tcp 45000 are inside',
    );
  });

  it('says nothing when every listener is outside the range or reserved', () => {
    const a = auditReservedPorts(
      [40000, 40999],
      [[40500, 40500]],
      [{ protocol: 'tcp', port: 40500, address: '::' }],
    );
    expect(a.exposed).toEqual([]);
    expect(a.commands).toEqual([]);
    expect(reservedPortsWarning(a, [40000, 40999])).toBeUndefined();
  });

  it('merges adjacent and overlapping ranges', () => {
    expect(
      mergePortRanges(
        [
          [10, 12],
          [20, 25],
        ],
        [13, 19, 24, 30],
      ),
    ).toEqual([
      [10, 13],
      [19, 25],
      [30, 30],
    ]);
  });
});

describe('conntrack', () => {
  it('sums hex per-CPU rows by column name', () => {
    const text =
      'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop\n' +
      '0000000a  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 000000ff 00000000\n' +
      '0000000a  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000002 00000001 00000010\n';
    expect(sumStatColumns(text, ['insert_failed', 'drop', 'early_drop', 'absent'])).toEqual({
      insert_failed: 3,
      drop: 256,
      early_drop: 16,
    });
  });

  it('warns on a table 80 % full and on lost flows; says nothing when not loaded', () => {
    expect(conntrackWarnings({ loaded: false, why: 'x' })).toEqual([]);
    const w = conntrackWarnings({
      loaded: true,
      count: 850,
      max: 1000,
      insertFailed: 0,
      drop: 3,
      unreadable: {},
    });
    expect(w[0]).toContain('85% full (850 of 1000)');
    expect(w[0]).toContain('sysctl -w net.netfilter.nf_conntrack_max=2000');
    expect(w[1]).toContain('drop 3');
    expect(
      conntrackWarnings({ loaded: true, count: 10, max: 1000, insertFailed: 0, drop: 0, unreadable: {} }),
    ).toEqual([]);
  });
});

describe('compareNamespaceSysctls', () => {
  it('names each distinct value and its namespaces, and skips values not read', () => {
    const d = compareNamespaceSysctls([
      { netns: 'host', ipLocalPortRange: [1024, 65535], tcpTwReuse: 1 },
      { netns: 'pod-a', ipLocalPortRange: [32768, 60999], tcpTwReuse: 1 },
      { netns: 'pod-b', ipLocalPortRange: [32768, 60999] },
    ]);
    expect(d).toEqual([
      {
        sysctl: 'net.ipv4.ip_local_port_range',
        values: [
          { value: '32768-60999', namespaces: ['pod-a', 'pod-b'] },
          { value: '1024-65535', namespaces: ['host'] },
        ],
      },
    ]);
    expect(divergenceWarning(d[0]!)).toMatch(
      /^net\.ipv4\.ip_local_port_range differs between network namespaces: 32768-60999 in pod-a, pod-b; 1024-65535 in host\./,
    );
  });

  it('finds nothing when they agree', () => {
    expect(
      compareNamespaceSysctls([
        { netns: 'a', tcpTwReuse: 2 },
        { netns: 'b', tcpTwReuse: 2 },
      ]),
    ).toEqual([]);
  });
});
