// The causes about the local port: someone holds it, none is left for port 0, or it is privileged.
import type { PortHolder } from '../host/types.js';
import type { Diagnosis, Remediation } from '../types.js';
import { localPort, type Context } from './context.js';
import { parseIp, isUnspecified } from './ip.js';
import { formatRanges, poolOf, WIDE_PORT_RANGE } from './pool.js';
import { sysctlCommands } from './remedies.js';
import { count, formatEndpoint, listing, percent, plural, withZone } from './text.js';

const SHOWN_HOLDERS = 10;

function shownLocal(ctx: Context, port: number): string {
  const host = ctx.local === undefined ? '0.0.0.0' : withZone(ctx.local.host, ctx.local.zone);
  return formatEndpoint(host, port);
}

function describeHolder(holder: PortHolder): string {
  const local = formatEndpoint(holder.local, holder.localPort);
  const remote =
    holder.remote !== undefined ? ` to ${formatEndpoint(holder.remote, holder.remotePort ?? 0)}` : '';
  const owner =
    holder.pid !== undefined
      ? `${holder.command ?? 'pid'} (pid ${holder.pid}, uid ${holder.uid})`
      : `process not visible (uid ${holder.uid}, socket inode ${holder.inode})`;
  return `${holder.protocol} ${local} ${holder.state}${remote}: ${owner}`;
}

function widenRangeRemedy(ctx: Context): Remediation | undefined {
  const pool = poolOf(ctx.sysctls);
  if (pool.notRead !== undefined) {
    return {
      title: `Read net.ipv4.ip_local_port_range (safebind could not), and widen it to ${WIDE_PORT_RANGE[0]}-${WIDE_PORT_RANGE[1]} if it is narrower`,
      commands: ['sysctl net.ipv4.ip_local_port_range net.ipv4.ip_local_reserved_ports'],
    };
  }
  if (pool.range[0] <= WIDE_PORT_RANGE[0] && pool.range[1] >= WIDE_PORT_RANGE[1]) return undefined;
  return {
    title: `Widen the local port range from ${pool.range[0]}-${pool.range[1]} to ${WIDE_PORT_RANGE[0]}-${WIDE_PORT_RANGE[1]}`,
    commands: sysctlCommands('net.ipv4.ip_local_port_range', WIDE_PORT_RANGE.join(' ')),
    warning:
      'Ports in the wider range can be taken by outgoing connections before a service binds them at start-up: ' +
      'list the ports your services listen on in net.ipv4.ip_local_reserved_ports.',
  };
}

/** bind-ports-exhausted: bind(…, 0) found no free port in the ephemeral range. */
export function bindPortsExhausted(ctx: Context): Diagnosis {
  const pool = poolOf(ctx.sysctls);
  const bound = ctx.host.boundPorts;
  const protocol = ctx.failure.protocol;
  const shown = shownLocal(ctx, 0);
  const fromConnect = ctx.failure.operation === 'connect';
  const details = [
    pool.notRead !== undefined
      ? `${protocol} bind(${shown}) asks the kernel for any free port of net.ipv4.ip_local_port_range; it found none (EADDRINUSE). ` +
        `${pool.notRead[0]?.toUpperCase()}${pool.notRead.slice(1)}.`
      : `${protocol} bind(${shown}) asks the kernel for any free port of net.ipv4.ip_local_port_range ${pool.range[0]}-${pool.range[1]} ` +
        `(${count(pool.rangeSize)} ports) minus ${count(pool.reserved)} reserved in net.ipv4.ip_local_reserved_ports` +
        (pool.reserved > 0 ? ` (${formatRanges(pool.reservedRanges)})` : '') +
        ` = ${count(pool.poolSize)}; it found none (EADDRINUSE).`,
  ];
  if (bound !== undefined) {
    details.push(
      `${count(bound.inUse)} of ${count(bound.poolSize)} ports of the range are bound now (${percent(bound.poolSize > 0 ? bound.inUse / bound.poolSize : 1)}).`,
    );
  }
  details.push(
    'A port taken by bind(…, 0) is held for every destination: the per-destination sharing that connect() gets does not apply.',
  );
  if (fromConnect && ctx.failure.options.bindAddressNoPort !== true) {
    details.push(
      `This bind was the source-address step of a connect to ${ctx.remote === undefined ? 'the destination' : formatEndpoint(ctx.remote.host, ctx.remote.port)} without bindAddressNoPort.`,
    );
  }
  const remediation: Remediation[] = [];
  if (fromConnect && ctx.failure.options.bindAddressNoPort !== true) {
    remediation.push({
      title:
        'Choose the source port at connect time (IP_BIND_ADDRESS_NO_PORT): ports are then shared across destinations',
      option: 'bindAddressNoPort: true',
    });
  }
  const widen = widenRangeRemedy(ctx);
  if (widen !== undefined) remediation.push(widen);
  const flag = protocol === 'udp' ? 'u' : 't';
  remediation.push({
    title: 'Find the processes holding the most ports and close the sockets they do not use',
    commands: [`ss -H${flag}anp | grep -o 'users:(("[^"]*",pid=[0-9]*' | sort | uniq -c | sort -rn | head`],
  });
  return {
    cause: 'bind-ports-exhausted',
    code: ctx.code,
    summary:
      bound !== undefined
        ? `No free port for ${protocol} bind(${shown}): ${count(bound.inUse)} of ${count(bound.poolSize)} ports of the range ${pool.range[0]}-${pool.range[1]} are bound`
        : pool.notRead !== undefined
          ? `No free port for ${protocol} bind(${shown}): every port of the ephemeral range is bound (the range could not be read)`
          : `No free port for ${protocol} bind(${shown}): every port of the range ${pool.range[0]}-${pool.range[1]} is bound`,
    details,
    evidence: {
      address: ctx.local?.host,
      port: 0,
      protocol,
      boundPorts: bound,
      range: pool.range,
      reserved: pool.reserved,
      reservedRanges: pool.reservedRanges,
      poolSize: pool.poolSize,
    },
    remediation,
  };
}

/** port-in-use: another socket holds the port; what to do depends on who and in which state. */
export function portInUse(ctx: Context): Diagnosis {
  const port = localPort(ctx) ?? 0;
  const protocol = ctx.failure.protocol;
  const shown = shownLocal(ctx, port);
  const holders = ctx.host.holders;
  const all = holders ?? [];
  const listening = all.filter((holder) => holder.state === 'LISTEN');
  const timeWait = all.filter((holder) => holder.state === 'TIME_WAIT');
  // TIME_WAIT sockets belong to no process any more: no pid is expected there, nothing is hidden.
  const hidden = all.filter((holder) => holder.pid === undefined && holder.state !== 'TIME_WAIT');
  const owners = all.filter((holder) => holder.pid !== undefined && holder.state !== 'TIME_WAIT');
  const onlyTimeWait = all.length > 0 && timeWait.length === all.length;
  const tcp = protocol === 'tcp';
  const noListener = tcp && all.length > 0 && listening.length === 0;

  const details = [`${ctx.error?.syscall ?? 'bind'}(${shown}) failed with EADDRINUSE.`];
  if (holders === undefined) {
    details.push(`The sockets holding port ${port} could not be listed.`);
  } else if (all.length === 0) {
    details.push(
      `No socket holding port ${port} was found in the socket table read after the failure: it has closed since.`,
    );
  } else {
    details.push(`${plural(all.length, 'socket')} ${all.length === 1 ? 'holds' : 'hold'} port ${port}:`);
    details.push(...all.slice(0, SHOWN_HOLDERS).map((holder) => `  ${describeHolder(holder)}`));
    if (all.length > SHOWN_HOLDERS) details.push(`  … and ${count(all.length - SHOWN_HOLDERS)} more.`);
  }
  const ownIp = ctx.local === undefined ? undefined : parseIp(ctx.local.host);
  const wildcard = all.find((holder) => {
    const ip = parseIp(holder.local);
    return ip !== undefined && isUnspecified(ip) && (ownIp === undefined || !isUnspecified(ownIp));
  });
  if (wildcard !== undefined && ctx.local !== undefined) {
    details.push(
      `${formatEndpoint(wildcard.local, port)} is the wildcard address: it covers ${ctx.local.host} too` +
        (wildcard.local.includes(':') && ownIp?.family === 4
          ? ' (an IPv6 wildcard socket without IPV6_V6ONLY also takes IPv4).'
          : '.'),
    );
  }
  if (onlyTimeWait && tcp) {
    details.push(
      `Only TIME_WAIT sockets hold it: connections on port ${port} closed in the last 60 s. They block a bind without SO_REUSEADDR, ` +
        'not one with it. Node (libuv) sets SO_REUSEADDR on every TCP server bind, which is why a plain server.listen() does not hit this.',
    );
  } else if (noListener) {
    details.push(
      `Nothing listens on port ${port}; the sockets holding it (${listing([...new Set(all.map((holder) => holder.state))])}) ` +
        'block only a bind without SO_REUSEADDR, when they set it too (connections accepted by a Node server do).',
    );
  }
  if (hidden.length > 0) {
    const uids = [...new Set(hidden.map((holder) => holder.uid))];
    details.push(
      `${plural(hidden.length, 'holder')} ${hidden.length === 1 ? 'shows' : 'show'} no process: owned by uid ${listing(uids.map(String))}, ` +
        'whose /proc/PID/fd this process may not read; run ss as root to see the owner.',
    );
  }

  const remediation: Remediation[] = [];
  if ((onlyTimeWait || noListener) && tcp) {
    remediation.push({
      title: onlyTimeWait
        ? 'Set SO_REUSEADDR so TIME_WAIT sockets do not block the bind (what Node/libuv does for every TCP server)'
        : 'Set SO_REUSEADDR so only a listening socket blocks the bind (what Node/libuv does for every TCP server)',
      option: 'reuseAddress: true',
    });
    if (onlyTimeWait) remediation.push({ title: 'Or wait: TIME_WAIT ends 60 s after the connection closed' });
  }
  const ssList = tcp ? `ss -ltnp 'sport = :${port}'` : `ss -lunp 'sport = :${port}'`;
  const ssAll = tcp ? `ss -tanp 'sport = :${port}'` : `ss -uanp 'sport = :${port}'`;
  const blocking = tcp ? listening : all;
  const pids = [...new Set(blocking.flatMap((holder) => (holder.pid !== undefined ? [holder.pid] : [])))];
  if (pids.length > 0) {
    const names = [
      ...new Set(
        blocking.flatMap((holder) =>
          holder.pid !== undefined ? [`${holder.command ?? '?'} (pid ${holder.pid})`] : [],
        ),
      ),
    ];
    remediation.push({
      title: `Stop ${listing(names)}, which holds port ${port}, or find out why it runs (another copy of this service?)`,
      commands: [ssList, ...pids.map((pid) => `kill ${pid}`)],
    });
  }
  if (blocking.some((holder) => holder.pid === undefined) || holders === undefined || all.length === 0) {
    remediation.push({
      title: `See who holds port ${port}, as root to see every user's sockets`,
      commands: [`sudo ${ssAll}`],
    });
  }
  if (!onlyTimeWait) {
    remediation.push({ title: `Or configure another port for this service` });
    remediation.push({
      title: 'Share the port with SO_REUSEPORT: the kernel spreads connections over every socket on it',
      option: 'reusePort: true',
      warning:
        'Works only when every socket on the port sets SO_REUSEPORT and runs as the same user; all of them then ' +
        'receive connections, so it is for several copies of one service, not for taking a port from another program.',
    });
  }

  const summary = (() => {
    const first = owners.find((holder) => holder.state === 'LISTEN') ?? owners[0];
    if (onlyTimeWait && tcp) {
      return `Port ${port} is held only by ${plural(timeWait.length, 'TIME_WAIT socket')} from recently closed connections: bind ${shown} with reuseAddress: true`;
    }
    if (first !== undefined) {
      const verb = first.state === 'LISTEN' ? 'listens on' : `holds (${first.state})`;
      return `Cannot bind ${shown}: port ${port} is taken, ${first.command ?? 'a process'} (pid ${first.pid}) ${verb} ${formatEndpoint(first.local, port)}`;
    }
    if (all.length > 0) {
      const holder = listening[0] ?? all[0];
      return `Cannot bind ${shown}: port ${port} is taken by a socket on ${formatEndpoint(holder?.local ?? '', port)} whose process could not be seen (uid ${holder?.uid})`;
    }
    return `Cannot bind ${shown}: port ${port} is in use, but no socket holding it was visible`;
  })();

  return {
    cause: 'port-in-use',
    code: ctx.code,
    summary,
    details,
    evidence: {
      address: ctx.local?.host,
      port,
      protocol,
      holders: holders ?? 'unavailable',
      listening: listening.length,
      timeWait: timeWait.length,
      hidden: hidden.length,
      reuseAddress: ctx.failure.options.reuseAddress ?? false,
    },
    remediation,
  };
}

/** port-privileged: below ip_unprivileged_port_start without CAP_NET_BIND_SERVICE. */
export function portPrivileged(ctx: Context): Diagnosis {
  const port = localPort(ctx) ?? 0;
  const shown = shownLocal(ctx, port);
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
