// name-not-resolved: getaddrinfo (or a c-ares query) found no address for the host name. Whether it
// is worth retrying depends on the code: EAI_AGAIN is the resolver not answering in time, ENOTFOUND
// an answer that the name has no address. The evidence is the resolver configuration read from this
// host: nsswitch's order, /etc/hosts, and resolv.conf's nameservers, search domains and options.
import type { ResolverConfig } from '../../host/types.js';
import type { Diagnosis, Remediation } from '../../types.js';
import type { Context } from '../context.js';
import { shellQuote } from '../shell.js';
import { listing } from '../text.js';

/** RFC 6761 special-use names that no resolver answers with an address. */
const NEVER_RESOLVES = /(^|\.)(invalid|test|example)\.?$/i;

function resolverDetails(config: ResolverConfig | undefined, name: string): string[] {
  if (config === undefined) return ['The resolver configuration was not read.'];
  const details: string[] = [];
  const ns = config.nsswitchHosts;
  if (ns !== undefined) {
    details.push(
      ns.present
        ? `${ns.path} hosts: ${ns.sources.join(' ')} (the sources getaddrinfo asks, in order).`
        : `${ns.path} has no hosts: line; glibc then asks dns, then files.`,
    );
  }
  const hosts = config.hosts;
  if (hosts !== undefined) {
    details.push(
      hosts.matches.length > 0
        ? `${hosts.path} names ${name}: ${hosts.matches.map((m) => `${m.address} ${m.names.join(' ')}`).join('; ')}.`
        : `${hosts.path} does not name ${name}.`,
    );
  }
  const rc = config.resolvConf;
  if (rc !== undefined) {
    details.push(
      rc.nameservers.length > 0
        ? `${rc.path}: nameserver ${listing(rc.nameservers)}` +
            (rc.search.length > 0 ? `; search ${rc.search.join(' ')}` : '') +
            (rc.options.length > 0 ? `; options ${rc.options.join(' ')}` : '') +
            '.'
        : `${rc.path} lists no nameserver: glibc then asks 127.0.0.1, where usually nothing answers.`,
    );
  }
  // Each reason already names its file: '/etc/resolv.conf: EACCES'.
  for (const why of Object.values(config.unreadable)) details.push(`Could not read ${why}.`);
  return details;
}

export function nameNotResolved(ctx: Context): Diagnosis {
  const name = ctx.remote?.host ?? ctx.error?.address ?? '';
  const shownName = name === '' ? 'the host name' : name;
  const code = ctx.code;
  const temporary = code === 'EAI_AGAIN' || code === 'ETIMEOUT' || code === 'ECONNREFUSED';
  const config = ctx.host.resolver;
  const nameservers = config?.resolvConf?.nameservers ?? [];
  const special = NEVER_RESOLVES.test(name);

  const summary = temporary
    ? `Cannot resolve ${shownName}: the resolver did not answer (${code}, a temporary failure)` +
      (nameservers.length > 0 ? `; nameserver ${listing(nameservers)}` : '')
    : `Cannot resolve ${shownName}: the name has no address (${code})`;
  const details = [
    `${ctx.error?.syscall || 'getaddrinfo'}(${shownName}) failed with ${code}: ` +
      (temporary
        ? 'no nameserver answered in time (unreachable, down, or dropping the query)' +
          (special ? '.' : '; the name itself may well exist.')
        : 'the resolver answered that the name does not exist, or has no address of the families asked.'),
    // Node's dns.lookup (and so net, http, fetch, pg, ioredis) asks for both families unless the
    // caller sets `family`; the error does not record which were asked.
    'Families asked: IPv4 and IPv6, unless the caller set family: 4 or 6 (the error does not record it).',
    ...resolverDetails(config, shownName),
  ];
  if (special) {
    details.push(
      `${shownName} ends in a special-use domain (RFC 6761: .invalid, .test, .example): no resolver gives it an address.`,
    );
  }

  const quoted = shellQuote(name === '' ? '<name>' : name);
  const remediation: Remediation[] = [];
  if (temporary) {
    remediation.push({
      title:
        nameservers.length > 0
          ? `Check that nameserver ${listing(nameservers)} is reachable and answers from here`
          : 'Configure a nameserver in /etc/resolv.conf (or the network manager that writes it)',
      commands: [
        `getent hosts ${quoted}`,
        ...nameservers.slice(0, 2).map((server) => `ip route get ${shellQuote(server)}`),
      ],
    });
    remediation.push({
      title: 'EAI_AGAIN is temporary: retry the lookup with backoff rather than failing for good',
    });
  } else {
    remediation.push({
      title: `Check the name: ${shownName} has no address in /etc/hosts or DNS (a typo, a missing record, or a search domain it needs)`,
      commands: [`getent hosts ${quoted}`],
    });
    const search = config?.resolvConf?.search ?? [];
    if (!name.includes('.') && search.length === 0) {
      remediation.push({
        title: `${shownName} has no dot and resolv.conf has no search domain: use the full name`,
      });
    }
  }
  remediation.push({
    title: 'Or connect to an IP address, or add the name to /etc/hosts where it is fixed',
  });

  return {
    cause: 'name-not-resolved',
    code,
    summary,
    details,
    evidence: {
      name,
      code,
      temporary,
      families: [4, 6],
      resolver: config ?? 'unavailable',
    },
    remediation,
  };
}
