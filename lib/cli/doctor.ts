// `safebind doctor`: the triage of this host in one screen, replacing the runbook's `ip -br addr`,
// `ss -tan state time-wait | wc -l`, `sysctl net.ipv4.ip_local_port_range`… `--json` prints the
// HostReport of inspectHost() and nothing else on stdout. Reads only; exits 0. The command's
// definition is in commands.ts; this module is loaded only when the command runs.
import { inspectHost, type InspectOptions } from '../api/inspect.js';
import { parseTarget } from '../sys/address.js';
import { coloursFor, formatHostReport } from './format/index.js';
import { UsageError } from './usage-error.js';

export interface DoctorFlags {
  dest: string[];
  json?: boolean;
}

type Destination = NonNullable<InspectOptions['destinations']>[number];

/**
 * Turns each `--dest` into a destination; a malformed one is bad usage (exit 2). A host name is
 * looked up here, because the socket table holds addresses: a name that does not resolve becomes a
 * warning of the report rather than a failure, since doctor must still show the rest of the host.
 */
export async function destinations(
  texts: string[],
): Promise<{ destinations: Destination[]; warnings: string[] }> {
  const out: Destination[] = [];
  const warnings: string[] = [];
  for (const text of texts) {
    const parsed = parseTarget(text);
    if (!parsed.ok) throw new UsageError(`--dest ${parsed.reason}`);
    const t = parsed.value;
    if (t.kind === 'address') {
      out.push({ host: t.address.address, port: t.port });
      continue;
    }
    try {
      // The resolver is loaded only when a name needs it: most runs give addresses or no --dest.
      const { lookup } = await import('node:dns/promises');
      const found = await lookup(t.host);
      out.push({ host: found.address, port: t.port });
    } catch (e) {
      warnings.push(
        `--dest ${text}: ${t.host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'lookup failed'})`,
      );
    }
  }
  return { destinations: out, warnings };
}

export async function doctorAction(flags: DoctorFlags): Promise<void> {
  const dest = await destinations(flags.dest);
  const report = await inspectHost({ destinations: dest.destinations });
  // Forecasts and audits (issue 16): see doctor-extras.ts.
  const { doctorExtras, formatDoctorExtras } = await import('./doctor-extras.js');
  const extras = await doctorExtras(report);
  report.warnings.unshift(...extras.first);
  report.warnings.push(...extras.last);
  // A name that did not resolve is the least severe thing to report: it goes last.
  report.warnings.push(...dest.warnings);
  if (flags.json) process.stdout.write(JSON.stringify({ ...report, audits: extras.audits }, null, 2) + '\n');
  else {
    const c = coloursFor(process.stdout);
    process.stdout.write(formatHostReport(c, report) + formatDoctorExtras(c, extras));
  }
  process.exitCode = 0;
}
