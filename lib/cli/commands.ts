// The shape of the command line: every command with its options, help text and examples, and no
// implementation. Each action imports its command's module when that command runs, so `--help`,
// `--version` and one command never load another's dependencies (bench churn's histograms and
// chart, preflight's spinner). Keep this file's imports light: commander and constants only.
import { Command, Option } from 'commander';
import { DEFAULT_POOL, MAX_CAPACITY_POOL } from '../bench/defaults.js';
import type { DoctorFlags } from './doctor.js';
import type { PreflightFlags } from './preflight.js';
import type { ChurnFlags } from './bench.js';
import type { CapacityFlags } from './bench-capacity.js';
import type { ExporterFlags } from './exporter.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** A repeatable option: each use adds one value; `none` says, in help, what giving none means. */
const repeatable = (flags: string, description: string, none: string): Option =>
  new Option(flags, description).argParser(collect).default([], none);

export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'The triage of this host in one screen: addresses and their state (tentative, dadfailed, link down), ' +
        'the port range and reserved ports, ip_nonlocal_bind, tcp_tw_reuse, TCP sockets by state, the busiest ' +
        'destinations with their source-port pool usage, and warnings, most severe first. Reads only.',
    )
    .addOption(
      repeatable(
        '--dest <host:port>',
        'also report the source-port pool toward this destination (repeatable)',
        'the busiest only',
      ),
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
    .action(async (flags: DoctorFlags) => (await import('./doctor.js')).doctorAction(flags));
}

export function preflightCommand(): Command {
  return new Command('preflight')
    .description(
      'Check, before a service starts, that each address it binds is bindable (bound for real, then closed) ' +
        'and each destination it connects to has a route and free source ports. Prints ✔ or ✖ per target, ' +
        'the cause, the evidence and the commands that fix it.',
    )
    .addOption(repeatable('--bind <host:port>', 'an address the service will bind (repeatable)', 'none'))
    .addOption(
      repeatable('--connect <host:port>', 'a destination the service will connect to (repeatable)', 'none'),
    )
    .option('--udp', 'check UDP instead of TCP')
    .option('--freebind', 'bind with IP_FREEBIND, as a service using freebind: true does')
    .option(
      '--wait <seconds>',
      'wait up to this long for addresses to become bindable (a VIP, DHCP, IPv6 DAD)',
    )
    .option(
      '--probe',
      'also connect to each --connect target for real, and ask the link (ARP, or IPv6 neighbour discovery) who answers for a --bind address that is not here',
    )
    .option(
      '--config <file>',
      'targets from a JSON file: { "bind": ["10.0.0.50:8080"], "connect": ["db:5432"] }',
    )
    .option('--json', 'print the PreflightReport as one JSON document on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ safebind preflight --bind 10.0.0.50:8080 --bind [fd00::50]:8080
  $ safebind preflight --bind 10.0.0.50:8080 --connect db.internal:5432 --probe
  $ safebind preflight --bind 10.0.0.50:53 --udp --wait 30
  $ safebind preflight --config /etc/myservice/preflight.json --json

  As a systemd unit's pre-start check (waits for the VIP, then fails the start with the reason):
    ExecStartPre=/usr/bin/env safebind preflight --bind 10.0.0.50:8080 --wait 30

Exit status: 0 every check passed, 1 a check failed, 2 bad usage or an unparseable target.`,
    )
    .exitOverride()
    .action(async (flags: PreflightFlags) => (await import('./preflight.js')).preflightAction(flags));
}

export function benchCommand(): Command {
  const churn = new Command('churn')
    .description(
      'Open and close TCP connections as fast as possible: rate, latency percentiles, errors by code, ' +
        'TIME_WAIT and source-port pool over time, and the first failure explained.',
    )
    .option('--target <host:port>', 'destination (default: a listener of its own on loopback)')
    .option('--duration <seconds>', 'how long to run, in seconds (default 10); not with --count')
    .option('--count <n>', 'how many connects to attempt, instead of a duration; not with --duration')
    .option('--concurrency <n>', 'connects in flight at once', '1')
    .addOption(
      new Option('--mode <mode>', 'native: in the addon, off the main thread; node: net.connect').default(
        'native',
      ),
    )
    .option('--linger0', 'SO_LINGER {1,0}: close with RST, no TIME_WAIT')
    .option('--bind-no-port', 'IP_BIND_ADDRESS_NO_PORT before bind(source, 0)')
    .addOption(
      repeatable(
        '--source <ip>',
        'source address, repeatable (round robin; each adds a pool)',
        "the route's own, unbound",
      ),
    )
    .option('--local-port-range <lo-hi>', 'IP_LOCAL_PORT_RANGE per socket (Linux 6.3+)')
    .option('--rehearse', 'run in a private network namespace with a small port range, to exhaustion')
    .option('--pool <n>', `ports in the rehearsal's range (default ${DEFAULT_POOL})`)
    .option('--chart <file>', 'write an HTML chart of rate, TIME_WAIT and pool usage over time')
    .option('--json', 'print exactly one JSON document on stdout')
    .exitOverride()
    .action(async (flags: ChurnFlags) => (await import('./bench.js')).churnAction(flags));
  return new Command('bench')
    .description(
      'Benchmarks: `bench churn` measures connect/close churn and source-port exhaustion; `bench capacity` how many ' +
        'connections toward one destination each source-address approach holds.',
    )
    .exitOverride()
    .addCommand(churn)
    .addCommand(capacityCommand());
}

// --- bench capacity (safebind/agent) ----------------------------------------------------------------
function capacityCommand(): Command {
  return new Command('capacity')
    .description(
      'In a private network namespace with a small port range, how many concurrent connections toward one ' +
        "destination each approach holds before the first failure: Node's localAddress, safebind/agent with " +
        '1, 2 and 4 sources, and toward two destinations at once (where localAddress shares one pool).',
    )
    .addOption(repeatable('--sources <ip>', 'a source address, repeatable', '127.0.0.11-14'))
    .option('--pool <n>', `ports in the namespace's range, 1-${MAX_CAPACITY_POOL} (default ${DEFAULT_POOL})`)
    .option('--chart <file>', 'write an HTML bar chart of the connections each approach held')
    .option('--json', 'print exactly one JSON document on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ safebind bench capacity
  $ safebind bench capacity --pool 200 --json
  $ safebind bench capacity --sources 10.9.0.1 --sources 10.9.0.2 --chart capacity.html

Exit status: 0 measured, 1 could not run (no namespace), 2 bad usage.`,
    )
    .exitOverride()
    .action(async (flags: CapacityFlags) => (await import('./bench-capacity.js')).capacityAction(flags));
}

// --- exporter (issue 16) ---
export function exporterCommand(): Command {
  return new Command('exporter')
    .description(
      'A standalone Prometheus endpoint (/metrics, text format 0.0.4; no client library needed): the ' +
        'gauges of safebind/prometheus, each labelled with the network namespace (its inode) and, where ' +
        "the owning processes' cgroups name them, the container and the pod. Each namespace is read by a " +
        'thread that enters it; the exporter itself never moves. Reads only.',
    )
    .option('--listen <host:port>', 'address to serve /metrics on', '127.0.0.1:9877')
    .addOption(
      repeatable(
        '--netns <all|path>',
        'namespaces to read: "all" (every one of the host: /run/netns and each /proc/PID/ns/net), or a ' +
          'namespace file such as /run/netns/NAME (repeatable)',
        "the exporter's own",
      ),
    )
    .addOption(
      repeatable(
        '--dest <host:port>',
        'export the source-port pool toward this destination in every namespace read (repeatable)',
        'the top N only',
      ),
    )
    .option('--top <n>', 'also export the n busiest destinations of each namespace (0: none)', '20')
    .addHelpText(
      'after',
      `
Examples:
  $ safebind exporter
  $ safebind exporter --listen 0.0.0.0:9877 --netns all --top 10
  $ safebind exporter --netns /run/netns/blue --dest 10.0.0.7:5432 --top 0

  Alert rules and a Grafana dashboard: docs/prometheus/ in the package's repository.

Exit status: 0 after SIGTERM or SIGINT, 2 for bad usage (a flag, an address in use).`,
    )
    .exitOverride()
    .action(async (flags: ExporterFlags) => (await import('./exporter.js')).exporterAction(flags));
}
// --- end exporter ---
