// Remediation builders shared by the causes: the exact command or code option with real values, and
// the price of each fix where it has one. safebind only advises; nothing here is ever run.
import type { Family, Remediation } from '../types.js';
import { WIDE_PORT_RANGE, type Pool } from '../model/index.js';
import { nonlocalBindName } from './context.js';
import { shellQuote } from './shell.js';

/**
 * Set now with `sysctl -w`, and persist in /etc/sysctl.d/ so a reboot does not undo it. A name can
 * hold an interface name (net.ipv6.conf.IF.disable_ipv6), so every word is shell-quoted; a range of
 * numbers keeps the familiar `name="1024 65535"` form.
 */
export function sysctlCommands(name: string, value: string | number): string[] {
  const text = String(value);
  const assignment = `${name}=${text}`;
  const setting =
    /^[\w.]+=[\d ]+$/.test(assignment) && text.includes(' ') ? `${name}="${text}"` : shellQuote(assignment);
  const file = `/etc/sysctl.d/90-${name.replace(/^net\./, '').replace(/[._]/g, '-')}.conf`;
  return [`sysctl -w ${setting}`, `echo ${shellQuote(`${name} = ${text}`)} > ${shellQuote(file)}`];
}

/** `ip addr add|del ADDRESS/LEN dev IF`, every host-supplied word quoted. */
export function ipAddrCommand(
  verb: 'add' | 'del',
  address: string,
  prefixLength: number,
  iface: string,
): string {
  return `ip addr ${verb} ${shellQuote(address)}/${prefixLength} dev ${shellQuote(iface)}`;
}

export function attachAddress(address: string, prefixLength: number, iface: string): Remediation {
  return {
    title: `Attach ${address} to ${iface}`,
    commands: [ipAddrCommand('add', address, prefixLength, iface)],
    warning:
      'ip addr add lasts until reboot or until the network manager rewrites the interface: add the address to ' +
      'its configuration (netplan, systemd-networkd, NetworkManager, keepalived) to keep it.',
  };
}

export function freebindRemedy(what: string): Remediation {
  return {
    title: `Bind before ${what} with IP_FREEBIND; traffic flows as soon as the address is attached`,
    option: 'freebind: true',
  };
}

/**
 * Waiting for the address, as a code option. After a wait that already ran (`waitedMs`), the remedy
 * says how long that was and offers a longer one, rather than the wait that just failed.
 */
export function waitForAddressRemedy(what: string, waitedMs?: number): Remediation {
  if (waitedMs === undefined)
    return {
      title: `Wait for ${what} to become bindable before giving up (retries the bind for up to 30 s)`,
      option: 'waitForAddress: 30000',
    };
  const longer = Math.max(30_000, Math.ceil((waitedMs * 2) / 1000) * 1000);
  return {
    title: `Wait longer for ${what}: ${formatSeconds(waitedMs)} were waited already (retries the bind for up to ${formatSeconds(longer)})`,
    option: `waitForAddress: ${longer}`,
    warning:
      'Only worth it when the address is known to come (a failover, a DHCP lease, DAD): otherwise a longer wait only fails later.',
  };
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

export function networkOnlineRemedy(): Remediation {
  return {
    title: 'Start the service after the network is configured (systemd unit, [Unit] section)',
    commands: ['[Unit]', 'Wants=network-online.target', 'After=network-online.target'],
    warning:
      'network-online.target waits for the addresses the network manager configures; a VIP added later by ' +
      'keepalived or a cloud agent still needs waitForAddress or freebind.',
  };
}

const NONLOCAL_PRICE =
  'lets every process on the host bind addresses the host does not own, so a service whose address is ' +
  'missing starts without an error and receives nothing.';

export function nonlocalBindRemedy(family: Family): Remediation {
  const name = nonlocalBindName(family);
  return {
    title: `Allow binding addresses that are not (yet) local for the whole host: ${name}=1`,
    commands: sysctlCommands(name, 1),
    warning: `${name}=1 ${NONLOCAL_PRICE} Prefer freebind: true, which does the same for this socket only.`,
  };
}

/** The warning line added wherever ip_nonlocal_bind is on and bears on the failure. */
export function nonlocalBindIsOn(family: Family): Remediation {
  const name = nonlocalBindName(family);
  return {
    title: `${name} is 1 on this host: turn it off unless something relies on it`,
    commands: [`sysctl -w ${name}=0`, `grep -rn ip_nonlocal_bind /etc/sysctl.conf /etc/sysctl.d/`],
    warning:
      `While it is on, it ${NONLOCAL_PRICE} Services that rely on it (a proxy binding a keepalived VIP) fail ` +
      'to start once it is off: give them freebind instead.',
  };
}

export function linkUpRemedy(iface: string, down: boolean): Remediation {
  return down
    ? {
        title: `Bring ${iface} up`,
        commands: [`ip link set ${shellQuote(iface)} up`, `ip link show ${shellQuote(iface)}`],
      }
    : {
        title: `Check the cable, switch port or veth peer of ${iface}: it is up but has no carrier`,
        commands: [`ip link show ${shellQuote(iface)}`, `ip link set ${shellQuote(iface)} up`],
      };
}

export function noDadRemedy(address: string, prefixLength: number, iface: string): Remediation {
  return {
    title: `Add ${address} without duplicate address detection`,
    commands: [
      ipAddrCommand('del', address, prefixLength, iface),
      `${ipAddrCommand('add', address, prefixLength, iface)} nodad`,
      `# or for every address of the link: sysctl -w ${shellQuote(`net.ipv6.conf.${iface}.accept_dad=0`)}`,
    ],
    warning:
      'Without DAD nothing notices another host on the link using the same address: both then lose ' +
      'traffic at random. Only where addresses are assigned centrally and never collide.',
  };
}

/**
 * Widen ip_local_port_range to every unprivileged port; undefined when it already is. `gain` ends
 * the title with what it brings (' (60,000 ports per destination instead of 28,000)').
 */
export function widenRangeRemedy(pool: Pool, gain = ''): Remediation | undefined {
  if (pool.notRead !== undefined) {
    return {
      title: `Read net.ipv4.ip_local_port_range (safebind could not), and widen it to ${WIDE_PORT_RANGE[0]}-${WIDE_PORT_RANGE[1]} if it is narrower`,
      commands: ['sysctl net.ipv4.ip_local_port_range net.ipv4.ip_local_reserved_ports'],
    };
  }
  const range = pool.range;
  if (range[0] <= WIDE_PORT_RANGE[0] && range[1] >= WIDE_PORT_RANGE[1]) return undefined;
  return {
    title: `Widen the local port range from ${range[0]}-${range[1]} to ${WIDE_PORT_RANGE[0]}-${WIDE_PORT_RANGE[1]}${gain}`,
    commands: sysctlCommands('net.ipv4.ip_local_port_range', WIDE_PORT_RANGE.join(' ')),
    warning:
      'Ports in the wider range can be taken by outgoing connections before a service binds them at start-up: ' +
      'list the ports your services listen on in net.ipv4.ip_local_reserved_ports.',
  };
}
