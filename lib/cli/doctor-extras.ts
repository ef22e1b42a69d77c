// What `safebind doctor` adds to inspectHost's report (issue 16): a forecast per busy destination
// (two readings a second apart), the audits of this namespace (listening ports inside the
// ephemeral range, conntrack), and the per-namespace sysctls compared across the named
// namespaces. --json carries them as `forecast` on each destination and `audits` on the report.
import { auditHost, type HostAudits } from '../api/audits.js';
import { forecastDestinations, queryOfUsage, type Forecast } from '../api/forecast.js';
import {
  compareNamespaceSysctls,
  divergenceWarning,
  type SysctlDivergence,
} from '../diagnose/netns-sysctls-audit.js';
import { readNamedNamespaceSysctls, readNamespaceSysctls } from '../host/index.js';
import type { NamespaceSysctls } from '../host/types.js';
import { printable } from '../diagnose/shell.js';
import type { HostReport, PortUsage } from '../types.js';
import { type Colours, conntrackLine, forecastLine, section } from './format/index.js';

/** Milliseconds between the two readings of doctor's forecasts. */
export const DOCTOR_SAMPLE_MS = 1000;

type ForecastJson = Omit<Forecast, 'usage'>;

export interface DoctorAudits extends HostAudits {
  namespaces: {
    readings: NamespaceSysctls[];
    divergences: SysctlDivergence[];
    unreadable: Record<string, string>;
  };
}

export interface DoctorExtras {
  /** Why the busiest destinations could not be read, when they could not. */
  tableUnread?: string;
  forecasts: Array<{ destination: string; forecast?: ForecastJson; error?: string }>;
  audits: DoctorAudits;
  /** Forecast warnings (a pool that fills) go first; audit warnings after inspectHost's. */
  first: string[];
  last: string[];
}

export async function doctorExtras(report: HostReport): Promise<DoctorExtras> {
  const pools = report.sockets.topDestinations;
  const queries = pools.map(queryOfUsage);
  const wanted = queries.filter((q) => q !== undefined);
  const results = wanted.length ? await forecastDestinations(wanted, DOCTOR_SAMPLE_MS) : [];
  const forecasts: DoctorExtras['forecasts'] = [];
  const first: string[] = [];
  let k = 0;
  pools.forEach((p, i) => {
    if (!queries[i]) return;
    const r = results[k++];
    if (r === undefined) return;
    if (typeof r === 'string') {
      forecasts.push({ destination: p.destination, error: r });
      return;
    }
    const { usage: _usage, ...json } = r;
    forecasts.push({ destination: p.destination, forecast: json });
    // Additive in --json: the destination entry gains its forecast.
    (p as PortUsage & { forecast?: ForecastJson }).forecast = json;
    if (r.exhaustionSeconds !== null) {
      const line = forecastLine(p.destination, r);
      if (line) first.push(line);
    }
  });
  const host = auditHost();
  // This namespace is read below as 'this namespace': not again under its name when it has one.
  const named = readNamedNamespaceSysctls(undefined, { exceptOwn: true });
  const here = readNamespaceSysctls('this namespace');
  const readings = [here, ...named.readings];
  const divergences = compareNamespaceSysctls(readings);
  const last = [...host.warnings, ...divergences.map(divergenceWarning)];
  const tableUnread = report.notRead?.topDestinations;
  return {
    ...(tableUnread !== undefined ? { tableUnread } : {}),
    forecasts,
    audits: { ...host, namespaces: { readings, divergences, unreadable: named.unreadable } },
    first,
    last,
  };
}

/** The human sections: Forecast and Audits. */
export function formatDoctorExtras(c: Colours, x: DoctorExtras): string {
  const fc: string[] = [];
  for (const f of x.forecasts) {
    if (f.error !== undefined) fc.push(`${f.destination}: could not be forecast: ${f.error}`);
    else if (f.forecast)
      fc.push(
        forecastLine(f.destination, f.forecast) ??
          `${f.destination}: no new connections in ${DOCTOR_SAMPLE_MS} ms`,
      );
  }
  const unread = x.tableUnread;
  if (unread !== undefined) fc.push(`not forecast: the busiest destinations could not be read (${unread})`);
  else if (fc.length === 0) fc.push('nothing to forecast: no outbound connections');
  const a = x.audits;
  const audit: string[] = [];
  if (a.reservedPorts) {
    const r = a.reservedPorts;
    audit.push(
      r.exposed.length
        ? `listening ports inside ${r.range[0]}-${r.range[1]} and not reserved: ${r.exposed.map((l) => `${l.protocol} ${l.port}`).join(', ')} (reserved now: ${r.reserved || 'none'})`
        : `no listening port inside ${r.range[0]}-${r.range[1]} is left unreserved (reserved: ${r.reserved || 'none'})`,
    );
  } else audit.push(`listening ports: not audited (${a.notRead.reservedPorts ?? 'not read'})`);
  audit.push(conntrackLine(a.conntrack));
  const ns = a.namespaces;
  audit.push(
    ns.divergences.length
      ? `${ns.divergences.length} per-namespace sysctl(s) differ across ${ns.readings.length} namespaces (see warnings)`
      : `ip_local_port_range and tcp_tw_reuse agree across ${ns.readings.length} namespace(s) read (this one and /run/netns)`,
  );
  for (const [name, why] of Object.entries(ns.unreadable))
    audit.push(`netns ${name} could not be read: ${why}`);
  return (
    [
      // Namespace names and destinations come from the host: no control character reaches the terminal.
      ...section(c, `Forecast (new connections over ${DOCTOR_SAMPLE_MS / 1000} s)`, fc.map(printable)),
      ...section(c, 'Audits', audit.map(printable)),
    ].join('\n') + '\n'
  );
}
