// port-privileged: a port below net.ipv4.ip_unprivileged_port_start without CAP_NET_BIND_SERVICE.
import type { Diagnosis } from '../../types.js';
import { localPort, type Context } from '../context.js';
import { shownLocalPort } from '../local-address.js';
import { sysctlCommands } from '../remedies.js';

export function portPrivileged(ctx: Context): Diagnosis {
  const port = localPort(ctx) ?? 0;
  const shown = shownLocalPort(ctx, port);
  const read = ctx.sysctls?.ipUnprivilegedPortStart;
  // Unread, the limit is not stated as a figure; the default only picks a port to suggest.
  const start = read ?? 1024;
  const limit =
    read !== undefined
      ? `${read} (net.ipv4.ip_unprivileged_port_start)`
      : 'net.ipv4.ip_unprivileged_port_start';
  const privileges = ctx.host.privileges;
  const alternative = Math.min(65535, Math.max(start, 8000 + port));
  const details = [
    read !== undefined
      ? `Ports below ${limit} need CAP_NET_BIND_SERVICE; bind of port ${port} failed with EACCES.`
      : `Ports below ${limit} need CAP_NET_BIND_SERVICE; bind of port ${port} failed with EACCES, which is how the kernel refuses one. ` +
        `net.ipv4.ip_unprivileged_port_start could not be read (${ctx.sysctls?.unreadable['net.ipv4.ip_unprivileged_port_start'] ?? 'not read'}).`,
    privileges === undefined
      ? 'The capabilities of this process could not be read.'
      : `This process runs as uid ${privileges.euid} without CAP_NET_BIND_SERVICE` +
        (privileges.euid === 0
          ? ': root with the capability dropped (a container, or a unit with CapabilityBoundingSet).'
          : '.'),
  ];
  return {
    cause: 'port-privileged',
    code: ctx.code,
    summary: `Cannot bind ${shown}: port ${port} is below ${limit} and this process lacks CAP_NET_BIND_SERVICE`,
    details,
    evidence: {
      address: ctx.local?.host,
      port,
      ipUnprivilegedPortStart: read ?? 'unreadable',
      euid: privileges?.euid,
      netBindService: privileges?.netBindService ?? 'unknown',
    },
    remediation: [
      {
        title: 'Grant the capability in the systemd unit ([Service] section)',
        commands: ['[Service]', 'AmbientCapabilities=CAP_NET_BIND_SERVICE'],
        warning: 'If the unit sets CapabilityBoundingSet=, CAP_NET_BIND_SERVICE must be in it too.',
      },
      {
        title: 'Or give the node binary the capability',
        commands: ['setcap cap_net_bind_service=+ep $(readlink -f $(which node))'],
        warning:
          'Every script this node runs can then bind privileged ports; it is lost when node is upgraded or reinstalled; ' +
          'and the binary runs in secure-execution mode (LD_PRELOAD and LD_LIBRARY_PATH are ignored).',
      },
      {
        title: `Or lower the privileged-port limit to ${port} (per network namespace)`,
        commands: sysctlCommands('net.ipv4.ip_unprivileged_port_start', port),
        warning: `Every user can then bind ports from ${port} up, including a process that takes port ${port} while the service is down.`,
      },
      {
        title: `Or listen on a port at or above ${read !== undefined ? start : 'that limit'} (say ${alternative}) behind a reverse proxy or load balancer that takes port ${port}`,
        option: `port: ${alternative}`,
      },
    ],
  };
}
