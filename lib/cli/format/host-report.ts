// The one screen of `safebind doctor`: warnings first (most severe first, as inspectHost orders
// them), then the addresses with their state, the port range, the sysctls that change bind and
// connect, sockets by state, and the busiest destinations with their source-port pool as a bar.
import type { Address, HostReport, PortUsage } from '../../types.js';
import { printableDeep } from '../../diagnose/shell.js';
import { parsePortRange, parsePortRanges, poolOf } from '../../model/index.js';
import type { Colours } from './colour.js';
import { bar, count, heading, pad, percent, plural, row, usageColour } from './text.js';

/** Flags worth showing beside the state; up/running/permanent are the normal case and only noise. */
const SHOWN_FLAGS = new Set(['secondary', 'deprecated', 'nodad', 'loopback', 'dynamic', 'noprefixroute']);

/** The state of an address in words, coloured by how much it matters to a bind. */
export function addressState(c: Colours, a: Address): string {
  if (a.flags.includes('dadfailed')) return c.red('dadfailed: another host on the link owns it');
  if (a.flags.includes('tentative')) {
    if (a.flags.includes('running')) return c.yellow('tentative: duplicate address detection running');
    // A link set down has no carrier either; what to do differs (bring it up, or find the cable).
    if (a.unknown?.includes('up')) return c.yellow('tentative: link down or without carrier');
    return a.flags.includes('up')
      ? c.yellow('tentative: link has no carrier')
      : c.yellow('tentative: link is down');
  }
  // Without the addon a link that is not running may be down or up without carrier: not told apart.
  if (a.unknown?.includes('up') && !a.flags.includes('running'))
    return c.yellow('link down or without carrier (not told apart without the addon)');
  if (!a.flags.includes('up')) return c.yellow('link down');
  if (!a.flags.includes('running')) return c.yellow('no carrier');
  if (a.flags.includes('deprecated')) return c.yellow('deprecated');
  return c.green('ok');
}

/** The line for something the report names in `notRead`: said so, never shown as empty. */
function notReadLine(c: Colours, why: string): string {
  return `  ${c.yellow('could not be read:')} ${why}`;
}

function addressLines(c: Colours, addresses: Address[], notRead?: string): string[] {
  if (notRead !== undefined) return [notReadLine(c, notRead)];
  if (addresses.length === 0) return ['  none'];
  // An interface or prefix the no-addon readers could not tell is shown as '?', never as a value.
  const names = addresses.map((a) => (a.unknown?.includes('interface') ? '?' : a.interface));
  const ifWidth = Math.max(...names.map((n) => n.length)) + 2;
  const cidrs = addresses.map(
    (a) => `${a.address}/${a.unknown?.includes('prefixLength') ? '?' : a.prefixLength}`,
  );
  const cidrWidth = Math.max(...cidrs.map((s) => s.length)) + 2;
  return addresses.map((a, i) => {
    const extra = a.flags.filter((f) => SHOWN_FLAGS.has(f));
    return (
      `  ${pad(names[i] ?? '', ifWidth)}${pad(cidrs[i] ?? '', cidrWidth)}${addressState(c, a)}` +
      (extra.length > 0 ? c.dim(`  ${extra.join(' ')}`) : '')
    );
  });
}

const TW_REUSE: Record<string, string> = {
  '0': 'never reuse TIME_WAIT for outbound connections',
  '1': 'reuse TIME_WAIT for every outbound connection',
  '2': 'reuse TIME_WAIT for loopback only, the default',
};

function portLines(c: Colours, s: Record<string, string>, notRead: Record<string, string>): string[] {
  const lines: string[] = [];
  const rangeText = s['net.ipv4.ip_local_port_range'];
  const range = rangeText !== undefined ? parsePortRange(rangeText) : undefined;
  const reservedText = (s['net.ipv4.ip_local_reserved_ports'] ?? '').trim();
  if (range !== undefined && s['net.ipv4.ip_local_reserved_ports'] !== undefined) {
    const pool = poolOf(range, parsePortRanges(reservedText));
    lines.push(
      row(
        c,
        'ip_local_port_range',
        `${range[0]}-${range[1]}  ${c.dim(`(${plural(pool.rangeSize, 'port')})`)}`,
      ),
      row(
        c,
        'ip_local_reserved_ports',
        reservedText === ''
          ? 'none'
          : `${reservedText}  ${c.dim(`(${count(pool.reserved)} in the range; pool ${plural(pool.poolSize, 'port')} per destination)`)}`,
      ),
    );
  } else {
    const unread = (name: string) =>
      c.yellow(`could not be read: ${notRead[`net.ipv4.${name}`] ?? 'no value'}`);
    lines.push(
      row(c, 'ip_local_port_range', rangeText !== undefined ? `${rangeText}` : unread('ip_local_port_range')),
    );
    const reserved = s['net.ipv4.ip_local_reserved_ports'];
    lines.push(
      row(
        c,
        'ip_local_reserved_ports',
        reserved === undefined ? unread('ip_local_reserved_ports') : reserved === '' ? 'none' : reserved,
      ),
    );
  }
  const unprivileged = s['net.ipv4.ip_unprivileged_port_start'];
  if (unprivileged !== undefined) {
    lines.push(
      row(
        c,
        'ip_unprivileged_port_start',
        `${unprivileged}  ${c.dim('(lower ports need CAP_NET_BIND_SERVICE)')}`,
      ),
    );
  }
  for (const v of ['ipv4', 'ipv6'] as const) {
    const value = s[`net.${v}.ip_nonlocal_bind`];
    if (value === undefined) continue;
    lines.push(
      row(
        c,
        `${v}.ip_nonlocal_bind`,
        value === '0'
          ? `0  ${c.dim('(binding an address the host does not own fails)')}`
          : c.yellow(`${value}  (on: binds of missing addresses succeed silently)`),
      ),
    );
  }
  const tw = s['net.ipv4.tcp_tw_reuse'];
  if (tw !== undefined)
    lines.push(row(c, 'tcp_tw_reuse', `${tw}  ${c.dim(`(${TW_REUSE[tw] ?? 'unknown value'})`)}`));
  const v6off = s['net.ipv6.conf.all.disable_ipv6'];
  if (v6off === '1') lines.push(row(c, 'ipv6.conf.all.disable_ipv6', c.yellow('1  (IPv6 disabled)')));
  return lines;
}

function socketLines(c: Colours, sockets: HostReport['sockets'], notRead: Record<string, string>): string[] {
  if (notRead.sockets !== undefined) return [notReadLine(c, notRead.sockets)];
  const states = Object.entries(sockets.byState).sort((a, b) => b[1] - a[1]);
  const total = states.reduce((n, [, k]) => n + k, 0);
  const lines =
    states.length === 0
      ? ['  no TCP sockets']
      : [
          '  ' +
            states
              .map(([state, k]) => `${state === 'TIME_WAIT' ? c.bold(state) : state} ${count(k)}`)
              .join('   ') +
            c.dim(`   (total ${count(total)})`),
        ];
  // Not a state ss -tan lists, so a line of their own, and only when there are some (or none could be counted).
  const only = 'only bound (bind() without connect() or listen() yet)';
  if (sockets.boundOnly !== undefined && sockets.boundOnly > 0)
    lines.push(
      `  ${only} ${count(sockets.boundOnly)}${c.dim(': each holds its port; ss -tan does not list them')}`,
    );
  else if (notRead.boundOnly !== undefined)
    lines.push(`  ${only}: ${c.yellow('could not be read:')} ${notRead.boundOnly}`);
  return lines;
}

function poolLines(c: Colours, pools: PortUsage[], notRead?: string): string[] {
  const unread = notRead !== undefined ? [notReadLine(c, notRead)] : [];
  if (pools.length === 0) return unread.length ? unread : ['  no outbound connections'];
  const names = pools.map((p) => {
    const proto = p.protocol === 'udp' ? ' udp' : '';
    return `${p.destination}${proto}${p.localAddress !== undefined ? ` from ${p.localAddress}` : ''}`;
  });
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = pools.map((p, i) => {
    const colour = usageColour(c, p.usage);
    const states = Object.entries(p.byState)
      .sort((a, b) => b[1] - a[1])
      .map(([state, k]) => `${state} ${count(k)}`)
      .join(', ');
    if (p.notRead !== undefined) {
      return (
        `  ${pad(names[i] ?? '', width)}${plural(p.inUse, 'socket')}; pool ${c.yellow(`could not be read: ${p.notRead}`)}` +
        (states !== '' ? c.dim(`  (${states})`) : '')
      );
    }
    return (
      `  ${pad(names[i] ?? '', width)}${colour(bar(p.usage))} ${colour(pad(percent(p.usage), 5))} ` +
      `${count(p.inUse)}/${count(p.poolSize)} source ports` +
      (states !== '' ? c.dim(`  (${states})`) : '')
    );
  });
  return [...lines, ...unread];
}

/** The human form of a {@link HostReport}, as `safebind doctor` prints it. */
export function formatHostReport(c: Colours, report: HostReport): string {
  // Interface names and warnings come from the host: no control character reaches the terminal.
  const r = printableDeep(report);
  const out: string[] = [];
  out.push(`${c.bold('safebind doctor')}  ${c.dim(r.kernel)}`, '');
  out.push(
    heading(c, r.warnings.length > 0 ? `Warnings (${r.warnings.length}, most severe first)` : 'Warnings'),
  );
  if (r.warnings.length === 0) out.push(`  ${c.green('✔')} nothing needs attention`);
  for (const w of r.warnings) out.push(`  ${c.yellow('⚠')} ${w}`);
  const notRead = r.notRead ?? {};
  out.push('', heading(c, 'Addresses'), ...addressLines(c, r.addresses, notRead.addresses));
  out.push('', heading(c, 'Ports and sysctls'), ...portLines(c, r.sysctls, notRead));
  out.push('', heading(c, 'TCP sockets by state'), ...socketLines(c, r.sockets, notRead));
  out.push(
    '',
    heading(c, 'Destinations (source-port pool in use)'),
    ...poolLines(c, r.sockets.topDestinations, notRead.topDestinations),
  );
  return out.join('\n') + '\n';
}
