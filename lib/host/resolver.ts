// The resolver configuration a failed name lookup went through: /etc/nsswitch.conf's `hosts:` line
// (which sources getaddrinfo asks, in order), /etc/hosts lines naming the host, and
// /etc/resolv.conf's nameservers, search domains and options. Each file that cannot be read is
// recorded with the reason, never taken as empty.
import { readFileSync } from 'node:fs';
import type { ResolverConfig } from './types.js';

/** Where the files are read from; tests and other roots (a container's) may point elsewhere. */
export interface ResolverPaths {
  resolvConf: string;
  hosts: string;
  nsswitch: string;
}

const DEFAULT_PATHS: ResolverPaths = {
  resolvConf: '/etc/resolv.conf',
  hosts: '/etc/hosts',
  nsswitch: '/etc/nsswitch.conf',
};

function readText(path: string): { ok: true; text: string } | { ok: false; reason: string } {
  try {
    return { ok: true, text: readFileSync(path, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, reason: `${path}: ${code}` };
  }
}

/** Lines without comments (`#`, and `;` in resolv.conf), split into words; blank lines dropped. */
function words(text: string, comment: RegExp): string[][] {
  return text
    .split('\n')
    .map((line) => line.replace(comment, '').trim())
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/));
}

/**
 * Reads the resolver configuration for a lookup of `name` (matched case-insensitively in
 * /etc/hosts, with and without a trailing dot).
 */
export function readResolverConfig(name: string, paths: ResolverPaths = DEFAULT_PATHS): ResolverConfig {
  const config: ResolverConfig = { name, unreadable: {} };

  const resolv = readText(paths.resolvConf);
  if (resolv.ok) {
    const found = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
    for (const [key, ...rest] of words(resolv.text, /[#;].*$/)) {
      if (key === 'nameserver' && rest[0] !== undefined) found.nameservers.push(rest[0]);
      // The last search or domain line wins (resolv.conf(5)).
      else if (key === 'search' || key === 'domain') found.search = rest;
      else if (key === 'options') found.options.push(...rest);
    }
    config.resolvConf = { path: paths.resolvConf, ...found };
  } else {
    config.unreadable['resolvConf'] = resolv.reason;
  }

  const hosts = readText(paths.hosts);
  if (hosts.ok) {
    const wanted = name.toLowerCase().replace(/\.$/, '');
    const matches = words(hosts.text, /#.*$/)
      .filter(([, ...names]) => names.some((n) => n.toLowerCase().replace(/\.$/, '') === wanted))
      .map(([address = '', ...names]) => ({ address, names }));
    config.hosts = { path: paths.hosts, matches };
  } else {
    config.unreadable['hosts'] = hosts.reason;
  }

  const nsswitch = readText(paths.nsswitch);
  if (nsswitch.ok) {
    const line = words(nsswitch.text, /#.*$/).find(([key]) => key === 'hosts:');
    // glibc's default when nsswitch.conf has no hosts line: dns, then files.
    config.nsswitchHosts = { path: paths.nsswitch, sources: line ? line.slice(1) : [], present: !!line };
  } else {
    config.unreadable['nsswitch'] = nsswitch.reason;
  }
  return config;
}
