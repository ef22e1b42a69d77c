// `safebind doctor`: the triage of this host in one screen, replacing the runbook's `ip -br addr`,
// `ss -tan state time-wait | wc -l`, `sysctl net.ipv4.ip_local_port_range`… `--json` prints the
// HostReport of inspectHost() and nothing else on stdout. Reads only; exits 0.
import { Command } from 'commander';
import { lookup } from 'node:dns/promises';
import { inspectHost, type InspectOptions } from '../api/inspect.js';
import { parseTarget } from '../sys/address.js';
import { coloursFor, formatHostReport } from './format/index.js';
import { UsageError } from './usage-error.js';

interface DoctorFlags {
  dest: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

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

async function doctorAction(flags: DoctorFlags): Promise<void> {
  const dest = await destinations(flags.dest);
  const report = await inspectHost({ destinations: dest.destinations });
  // A name that did not resolve is the least severe thing to report: it goes last.
  report.warnings.push(...dest.warnings);
  if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatHostReport(coloursFor(process.stdout), report));
  process.exitCode = 0;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'The triage of this host in one screen: addresses and their state (tentative, dadfailed, link down), ' +
        'the port range and reserved ports, ip_nonlocal_bind, tcp_tw_reuse, TCP sockets by state, the busiest ' +
        'destinations with their source-port pool usage, and warnings, most severe first. Reads only.',
    )
    .option(
      '--dest <host:port>',
      'also report the source-port pool toward this destination (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print the HostReport as one JSON document on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ safebind doctor
  $ safebind doctor --dest 10.0.0.7:5432 --dest [fd00::7]:443
  $ safebind doctor --json | jq '.sockets.topDestinations[0].usage'
  $ NO_COLOR=1 safebind doctor > triage.txt

Exit status: 0 (doctor reports; it does not judge), 2 for bad usage.`,
    )
    .exitOverride()
    .action(doctorAction);
}
