// ip_local_port_range and tcp_tw_reuse are per network namespace, and a new namespace starts with
// the kernel's defaults, not its creator's values (measured: docs/kernel-facts.md). A host tuned
// with sysctl -w is therefore often tuned in the initial namespace only, while containers churn with
// 32768-60999 and tcp_tw_reuse=2. Pure: the readings of each namespace come in.

import type { NamespaceSysctls } from '../host/types.js';

export type { NamespaceSysctls };

export interface SysctlDivergence {
  sysctl: 'net.ipv4.ip_local_port_range' | 'net.ipv4.tcp_tw_reuse';
  /** Each distinct value and the namespaces that have it, most namespaces first. */
  values: Array<{ value: string; namespaces: string[] }>;
}

/** The sysctls whose values differ between the namespaces read; namespaces where one was not read are left out of it. */
export function compareNamespaceSysctls(readings: NamespaceSysctls[]): SysctlDivergence[] {
  const out: SysctlDivergence[] = [];
  const each = [
    [
      'net.ipv4.ip_local_port_range',
      (r: NamespaceSysctls) => r.ipLocalPortRange && `${r.ipLocalPortRange[0]}-${r.ipLocalPortRange[1]}`,
    ],
    ['net.ipv4.tcp_tw_reuse', (r: NamespaceSysctls) => r.tcpTwReuse?.toString()],
  ] as const;
  for (const [sysctl, valueOf] of each) {
    const byValue = new Map<string, string[]>();
    for (const r of readings) {
      const v = valueOf(r);
      if (v === undefined) continue;
      byValue.set(v, [...(byValue.get(v) ?? []), r.netns]);
    }
    if (byValue.size < 2) continue;
    const values = [...byValue].map(([value, namespaces]) => ({ value, namespaces }));
    values.sort((a, b) => b.namespaces.length - a.namespaces.length || a.value.localeCompare(b.value));
    out.push({ sysctl, values });
  }
  return out;
}

/**
 * Per sysctl, how many distinct values the namespaces that read it have (1: they agree); a sysctl no
 * namespace read is left out. What `safebind_netns_sysctl_distinct_values` reports.
 */
export function distinctSysctlValues(
  readings: NamespaceSysctls[],
): Array<{ sysctl: SysctlDivergence['sysctl']; values: number }> {
  const differ = new Map(compareNamespaceSysctls(readings).map((d) => [d.sysctl, d.values.length]));
  const out: Array<{ sysctl: SysctlDivergence['sysctl']; values: number }> = [];
  for (const [sysctl, has] of [
    ['net.ipv4.ip_local_port_range', (r: NamespaceSysctls) => r.ipLocalPortRange !== undefined],
    ['net.ipv4.tcp_tw_reuse', (r: NamespaceSysctls) => r.tcpTwReuse !== undefined],
  ] as const) {
    if (readings.some(has)) out.push({ sysctl, values: differ.get(sysctl) ?? 1 });
  }
  return out;
}

/** One doctor line per divergence. */
export function divergenceWarning(d: SysctlDivergence): string {
  const parts = d.values.map((v) => `${v.value} in ${v.namespaces.join(', ')}`);
  return `${d.sysctl} differs between network namespaces: ${parts.join('; ')}. Each namespace has its own value and a new one starts at the kernel default: set it inside every namespace that needs it (ip netns exec, or the pod's sysctls), not only on the host`;
}
