// port-in-use: another socket holds the port. What to do depends on who holds it and in which
// state: a listener (stop it or pick another port), or only TIME_WAIT (SO_REUSEADDR).
import type { PortHolder } from '../../host/types.js';
import type { Diagnosis, Remediation } from '../../types.js';
import { conflicts, isUnspecified, parseIp, type ConflictAnswer, type NewBind } from '../../model/index.js';
import { localPort, type Context } from '../context.js';
import { shownLocalPort } from '../local-address.js';
import { count, formatEndpoint, listing, plural } from '../text.js';

const SHOWN_HOLDERS = 10;

function v6onlyNote(holder: PortHolder): string {
  if (holder.v6only === undefined || !holder.local.includes(':')) return '';
  return holder.v6only ? ' (IPV6_V6ONLY)' : ' (without IPV6_V6ONLY: takes IPv4 too)';
}

function describeHolder(holder: PortHolder): string {
  const device = holder.device ? ` (SO_BINDTODEVICE ${holder.device})` : '';
  const local = formatEndpoint(holder.local, holder.localPort) + v6onlyNote(holder) + device;
  const remote =
    holder.remote !== undefined ? ` to ${formatEndpoint(holder.remote, holder.remotePort ?? 0)}` : '';
  const owner =
    holder.pid !== undefined
      ? `${holder.command ?? 'pid'} (pid ${holder.pid}, uid ${holder.uid})`
      : `process not visible (uid ${holder.uid}, socket inode ${holder.inode})`;
  return `${holder.protocol} ${local} ${holder.state}${remote}: ${owner}`;
}

/**
 * The sockets on the port that stand in the way of this bind, by the kernel's rule (conflicts()):
 * family, IPV6_V6ONLY, wildcard or specific, SO_REUSEADDR, SO_REUSEPORT, TIME_WAIT. Sockets on the
 * port that cannot conflict are kept apart, so no process is blamed for a port it does not block.
 */
function holdersOf(ctx: Context) {
  const onPort = ctx.host.holders ?? [];
  const tcp = ctx.failure.protocol === 'tcp';
  const bind: NewBind = {
    address: ctx.local?.host ?? '',
    v6only: ctx.failure.options.ipv6Only,
    protocol: ctx.failure.protocol,
    // Node reports a bind inside listen() as 'listen'; either way the socket was to listen, and
    // SO_REUSEADDR then shares with no one.
    listening: tcp && (ctx.failure.operation === 'listen' || ctx.error?.syscall === 'listen'),
    reuseAddress: ctx.failure.options.reuseAddress ?? false,
    reusePort: ctx.failure.options.reusePort ?? false,
    device: ctx.failure.options.device,
  };
  // The IPV6_V6ONLY a socket that never set it starts with; unread, conflicts() tries both.
  const bindv6only = ctx.host.sysctls?.bindv6only;
  const judged = onPort.map((holder) => ({
    holder,
    answer:
      ctx.local === undefined ? undefined : conflicts({ ...holder, address: holder.local }, bind, bindv6only),
  }));
  const all = judged.filter((j) => j.answer?.verdict !== 'none').map((j) => j.holder);
  const maybe = judged.filter((j) => j.answer?.verdict === 'maybe');
  const apart = judged.filter((j) => j.answer?.verdict === 'none').map((j) => j.holder);
  const listening = all.filter((holder) => holder.state === 'LISTEN');
  const timeWait = all.filter((holder) => holder.state === 'TIME_WAIT');
  return {
    all,
    maybe,
    apart,
    listening,
    timeWait,
    // TIME_WAIT sockets belong to no process any more: no pid is expected there, nothing is hidden.
    hidden: all.filter((holder) => holder.pid === undefined && holder.state !== 'TIME_WAIT'),
    owners: all.filter((holder) => holder.pid !== undefined && holder.state !== 'TIME_WAIT'),
    onlyTimeWait: all.length > 0 && timeWait.length === all.length,
    noListener: tcp && all.length > 0 && listening.length === 0,
    /** Those that block the bind for sure (listeners first for TCP), else the possible ones. */
    blocking: blockingOf(tcp, judged),
  };
}
type Holders = ReturnType<typeof holdersOf>;

function blockingOf(
  tcp: boolean,
  judged: Array<{ holder: PortHolder; answer?: ConflictAnswer | undefined }>,
) {
  const sure = judged
    .filter((j) => j.answer === undefined || j.answer.verdict === 'conflict')
    .map((j) => j.holder);
  const listeners = sure.filter((holder) => holder.state === 'LISTEN');
  if (tcp && listeners.length > 0) return listeners;
  if (sure.length > 0) return sure;
  return judged.filter((j) => j.answer?.verdict === 'maybe').map((j) => j.holder);
}

function holderDetails(ctx: Context, port: number, h: Holders): string[] {
  const details: string[] = [];
  const { all } = h;
  if (ctx.host.holders === undefined) {
    details.push(`The sockets holding port ${port} could not be listed.`);
  } else if (all.length === 0 && h.apart.length > 0) {
    details.push(
      `None of the ${plural(h.apart.length, 'socket')} on port ${port} read after the failure can conflict with this bind: the one in the way has closed since.`,
    );
  } else if (all.length === 0) {
    details.push(
      `No socket holding port ${port} was found in the socket table read after the failure: it has closed since.`,
    );
  } else {
    details.push(`${plural(all.length, 'socket')} ${all.length === 1 ? 'holds' : 'hold'} port ${port}:`);
    details.push(...all.slice(0, SHOWN_HOLDERS).map((holder) => `  ${describeHolder(holder)}`));
    if (all.length > SHOWN_HOLDERS) details.push(`  … and ${count(all.length - SHOWN_HOLDERS)} more.`);
  }
  // A wildcard holder that conflicts (conflicts() said so, family and IPV6_V6ONLY included).
  const ownIp = ctx.local?.ip;
  const wildcard =
    ownIp === undefined || isUnspecified(ownIp)
      ? undefined
      : all.find((holder) => {
          const ip = parseIp(holder.local);
          return ip !== undefined && isUnspecified(ip);
        });
  if (wildcard !== undefined && ctx.local !== undefined) {
    details.push(
      `${formatEndpoint(wildcard.local, port)} is the wildcard address: it covers ${ctx.local.host} too` +
        (wildcard.local.includes(':') && ownIp?.family === 4
          ? wildcard.v6only === false
            ? ' (an IPv6 wildcard socket without IPV6_V6ONLY also takes IPv4).'
            : ' (if it lacks IPV6_V6ONLY, which was not reported for it).'
          : '.'),
    );
  }
  for (const { holder, answer } of h.maybe)
    details.push(
      `${formatEndpoint(holder.local, port)} ${holder.state}: ${answer?.reason ?? 'not known'} — it may or may not be the one in the way.`,
    );
  if (h.apart.length > 0)
    details.push(
      `Also on port ${port}, not in the way of ${ctx.local?.host ?? 'this bind'} (another family, IPV6_V6ONLY, or another specific address): ` +
        listing(
          h.apart.map(
            (holder) =>
              `${formatEndpoint(holder.local, port)}${v6onlyNote(holder)}${holder.pid !== undefined ? ` (pid ${holder.pid})` : ''}`,
          ),
        ) +
        '.',
    );
  if (ctx.failure.protocol === 'tcp' && h.all.some((holder) => holder.state !== 'LISTEN'))
    details.push(
      'sock_diag does not show whether another socket set SO_REUSEADDR or SO_REUSEPORT (nor the flag a TIME_WAIT kept): where that decides, the holder is listed as possible, not certain.',
    );
  const tcp = ctx.failure.protocol === 'tcp';
  if (h.onlyTimeWait && tcp && ctx.failure.options.reuseAddress === true) {
    details.push(
      `Only TIME_WAIT sockets hold it: connections on port ${port} closed in the last 60 s. This bind had SO_REUSEADDR (Node's listen sets it), ` +
        'and a TIME_WAIT yields to it only when its own socket had SO_REUSEADDR too: these come from connections bound without it.',
    );
  } else if (h.onlyTimeWait && tcp) {
    details.push(
      `Only TIME_WAIT sockets hold it: connections on port ${port} closed in the last 60 s. They block a bind without SO_REUSEADDR, ` +
        'not one with it. Node (libuv) sets SO_REUSEADDR on every TCP server bind, which is why a plain server.listen() does not hit this.',
    );
  } else if (h.noListener) {
    details.push(
      `Nothing listens on port ${port}; the sockets holding it (${listing([...new Set(all.map((holder) => holder.state))])}) ` +
        'block only a bind without SO_REUSEADDR, when they set it too (connections accepted by a Node server do).',
    );
  }
  const parents = hiddenParents(h.owners);
  if (parents.length > 0) {
    details.push(
      `${listing(parents)} started a holder, and its descriptors could not be read (another user's): it likely holds the same socket ` +
        '(a server master whose workers inherit the listening socket), and would start a new holder if one were stopped.',
    );
  }
  if (h.hidden.length > 0) {
    const uids = [...new Set(h.hidden.map((holder) => holder.uid))];
    details.push(
      `${plural(h.hidden.length, 'holder')} ${h.hidden.length === 1 ? 'shows' : 'show'} no process: owned by uid ${listing(uids.map(String))}, ` +
        'whose /proc/PID/fd this process may not read; run ss as root to see the owner.',
    );
  }
  return details;
}

/** `nginx (pid 7100)` for each distinct parent of these holders whose descriptors were hidden. */
function hiddenParents(holders: PortHolder[]): string[] {
  return [
    ...new Set(
      holders.flatMap((holder) =>
        holder.hiddenParent ? [`${holder.hiddenParent.command ?? '?'} (pid ${holder.hiddenParent.pid})`] : [],
      ),
    ),
  ];
}

function holderRemedies(ctx: Context, port: number, h: Holders): Remediation[] {
  const tcp = ctx.failure.protocol === 'tcp';
  const remediation: Remediation[] = [];
  const reuseAddressSet = ctx.failure.options.reuseAddress === true;
  if ((h.onlyTimeWait || h.noListener) && tcp && !reuseAddressSet) {
    remediation.push({
      title: h.onlyTimeWait
        ? 'Set SO_REUSEADDR so TIME_WAIT sockets do not block the bind (what Node/libuv does for every TCP server)'
        : 'Set SO_REUSEADDR so only a listening socket blocks the bind (what Node/libuv does for every TCP server)',
      option: 'reuseAddress: true',
    });
    if (h.onlyTimeWait)
      remediation.push({ title: 'Or wait: TIME_WAIT ends 60 s after the connection closed' });
  } else if (h.onlyTimeWait && tcp) {
    remediation.push({
      title:
        'Wait: TIME_WAIT ends 60 s after the connection closed (this bind already had SO_REUSEADDR; the connections were bound without it)',
    });
  }
  const ssList = tcp ? `ss -ltnp 'sport = :${port}'` : `ss -lunp 'sport = :${port}'`;
  const ssAll = tcp ? `ss -tanp 'sport = :${port}'` : `ss -uanp 'sport = :${port}'`;
  const self = ctx.host.selfPid;
  // This process among the holders: never told to kill itself.
  if (self !== undefined && h.blocking.some((holder) => holder.pid === self)) {
    remediation.push({
      title: `This process (pid ${self}) already holds port ${port}: the same server listens twice, or an earlier socket on the port was not closed`,
    });
  }
  const visible = h.blocking.filter((holder) => holder.pid !== undefined && holder.pid !== self);
  const pids = [...new Set(visible.map((holder) => holder.pid))];
  const parents = hiddenParents(visible);
  if (pids.length > 0 && parents.length > 0) {
    // A worker seen, its master not: killing the worker frees nothing, the master starts another.
    const names = [...new Set(visible.map((holder) => `${holder.command ?? '?'} (pid ${holder.pid})`))];
    remediation.push({
      title:
        `Stop the service that holds port ${port}: ${listing(names)} as far as this user can see, started by ${listing(parents)}, ` +
        'which likely holds the port too; see every holder as root before stopping anything',
      commands: [`sudo ${ssList}`],
    });
  } else if (pids.length > 0) {
    const names = [...new Set(visible.map((holder) => `${holder.command ?? '?'} (pid ${holder.pid})`))];
    remediation.push({
      title: `Stop ${listing(names)}, which holds port ${port}, or find out why it runs (another copy of this service?)`,
      commands: [ssList, ...pids.map((pid) => `kill ${pid}`)],
    });
  }
  if (
    h.blocking.some((holder) => holder.pid === undefined) ||
    ctx.host.holders === undefined ||
    h.all.length === 0
  ) {
    remediation.push({
      title: `See who holds port ${port}, as root to see every user's sockets`,
      commands: [`sudo ${ssAll}`],
    });
  }
  if (!h.onlyTimeWait) {
    remediation.push({ title: `Or configure another port for this service` });
    remediation.push({
      title: 'Share the port with SO_REUSEPORT: the kernel spreads connections over every socket on it',
      option: 'reusePort: true',
      warning:
        'Works only when every socket on the port sets SO_REUSEPORT and runs as the same user; all of them then ' +
        'receive connections, so it is for several copies of one service, not for taking a port from another program.',
    });
  }
  return remediation;
}

function summaryOf(ctx: Context, port: number, shown: string, h: Holders): string {
  const first = h.owners.find((holder) => holder.state === 'LISTEN') ?? h.owners[0];
  if (h.onlyTimeWait && ctx.failure.protocol === 'tcp' && ctx.failure.options.reuseAddress === true) {
    return `Cannot bind ${shown}: port ${port} is held only by ${plural(h.timeWait.length, 'TIME_WAIT socket')} of connections bound without SO_REUSEADDR, which block even a bind with it`;
  }
  if (h.onlyTimeWait && ctx.failure.protocol === 'tcp') {
    return `Port ${port} is held only by ${plural(h.timeWait.length, 'TIME_WAIT socket')} from recently closed connections: bind ${shown} with reuseAddress: true`;
  }
  if (first !== undefined) {
    const verb = first.state === 'LISTEN' ? 'listens on' : `holds (${first.state})`;
    const who =
      first.pid === ctx.host.selfPid
        ? `this process itself (pid ${first.pid})`
        : `${first.command ?? 'a process'} (pid ${first.pid})`;
    return `Cannot bind ${shown}: port ${port} is taken, ${who} ${verb} ${formatEndpoint(first.local, port)}`;
  }
  if (h.all.length > 0) {
    const holder = h.listening[0] ?? h.all[0];
    return `Cannot bind ${shown}: port ${port} is taken by a socket on ${formatEndpoint(holder?.local ?? '', port)} whose process could not be seen (uid ${holder?.uid})`;
  }
  return `Cannot bind ${shown}: port ${port} is in use, but no socket holding it was visible`;
}

export function portInUse(ctx: Context): Diagnosis {
  const port = localPort(ctx) ?? 0;
  const shown = shownLocalPort(ctx, port);
  const h = holdersOf(ctx);
  return {
    cause: 'port-in-use',
    code: ctx.code,
    summary: summaryOf(ctx, port, shown, h),
    details: [
      `${ctx.error?.syscall ?? 'bind'}(${shown}) failed with EADDRINUSE.`,
      ...holderDetails(ctx, port, h),
    ],
    evidence: {
      address: ctx.local?.host,
      port,
      protocol: ctx.failure.protocol,
      holders: ctx.host.holders === undefined ? 'unavailable' : h.all,
      notConflicting: h.apart,
      listening: h.listening.length,
      timeWait: h.timeWait.length,
      hidden: h.hidden.length,
      reuseAddress: ctx.failure.options.reuseAddress ?? false,
    },
    remediation: holderRemedies(ctx, port, h),
  };
}
