// connection-refused: connect ECONNREFUSED. The destination answered the SYN with a reset: nothing
// accepts on that port there. When the destination is an address of this namespace, its listeners
// are in the socket table read after the failure, so the diagnosis says what listens on that port
// and on which addresses; when it is another host, what cannot be seen from here.
import type { PortHolder } from '../../host/types.js';
import type { Diagnosis, Remediation } from '../../types.js';
import { isLoopback, isUnspecified, mappedV4, parseIp, sameIp, type Ip } from '../../model/index.js';
import type { Context } from '../context.js';
import { shellQuote } from '../shell.js';
import { formatEndpoint, listing, plural } from '../text.js';

function describeListener(holder: PortHolder): string {
  const owner =
    holder.pid !== undefined
      ? `${holder.command ?? 'pid'} (pid ${holder.pid})`
      : `process not visible (uid ${holder.uid})`;
  return `${formatEndpoint(holder.local, holder.localPort)}: ${owner}`;
}

/**
 * Whether a listener on `listening` takes connections to `destination`: the same address, or a
 * wildcard of the same family (an IPv6 wildcard also takes IPv4 unless IPV6_V6ONLY is set, which
 * the socket table read here does not say, so it counts as taking it).
 */
function accepts(listening: Ip, destination: Ip): boolean {
  const dest = mappedV4(destination) ?? destination;
  const own = mappedV4(listening) ?? listening;
  if (sameIp(own, dest)) return true;
  if (!isUnspecified(own)) return false;
  return own.family === dest.family || own.family === 6;
}

export function connectionRefused(ctx: Context): Diagnosis {
  const remote = ctx.remote;
  const port = remote?.port ?? 0;
  const shown = remote === undefined ? 'the destination' : formatEndpoint(remote.host, remote.port);
  const dest = remote?.lookup;
  // Loopback (all of 127.0.0.0/8, ::1), the unspecified address and this host's own addresses are
  // answered by this network namespace: its socket table holds the listener, or its absence.
  const local =
    dest !== undefined &&
    (isLoopback(dest) || isUnspecified(dest) || (remote !== undefined && remote.present.length > 0));
  const listeners = ctx.host.listeners;
  const parsed = (listeners ?? []).map((holder) => ({ holder, ip: parseIp(holder.local) }));
  const covering = parsed.filter(({ ip }) => ip !== undefined && dest !== undefined && accepts(ip, dest));
  const elsewhere = parsed.filter((entry) => !covering.includes(entry)).map(({ holder }) => holder);
  const details = [`connect to ${shown} failed with ECONNREFUSED: the destination answered with a reset.`];
  const remediation: Remediation[] = [];
  const ssCommand = `ss -ltnp ${shellQuote(`sport = :${port}`)}`;
  let summary: string;

  if (remote === undefined) {
    summary =
      'Connection refused, and the error names no destination: pass { host, port } as context to see what listens there';
  } else if (listeners === undefined) {
    summary = `Connection refused by ${shown}: nothing accepted on port ${port} there (the listeners here could not be read)`;
  } else if (local && covering.length > 0) {
    summary = `Connection refused by ${shown}, yet ${describeListener(covering[0]!.holder)} listens there now: it was not listening when connect ran`;
    details.push(
      `Listening now: ${listing(covering.map(({ holder }) => describeListener(holder)))}.`,
      'So the server started (or restarted) after the connect, or its accept queue was closed at that moment.',
    );
    remediation.push({
      title:
        'Start the client after the server is listening (systemd After= and a readiness notification), or retry the connect with backoff',
    });
  } else if (local) {
    const there = elsewhere.length > 0;
    summary = there
      ? `Connection refused by ${shown}: nothing listens on ${remote?.host ?? 'that address'} port ${port}; ${plural(elsewhere.length, 'listener')} on port ${port} ${elsewhere.length === 1 ? 'exists' : 'exist'} on ${listing(elsewhere.map((h) => formatEndpoint(h.local, port)))}`
      : `Connection refused by ${shown}: nothing listens on port ${port} in this network namespace`;
    details.push(
      `${remote?.host} is an address of this network namespace, so its listeners were read here: ` +
        (there
          ? `port ${port} is listened on only at ${listing(elsewhere.map(describeListener))}, which does not take connections to ${remote?.host}.`
          : `no socket listens on port ${port} on any address.`),
    );
    if (there) {
      const other = elsewhere[0]!;
      const destFamily = dest?.family;
      const otherFamily = parseIp(other.local)?.family;
      if (destFamily !== undefined && otherFamily !== undefined && destFamily !== otherFamily) {
        details.push(
          `The client tried IPv${destFamily} and the server listens on IPv${otherFamily} only: a name such as localhost that resolves to ::1 and 127.0.0.1 is tried in the order the resolver gives.`,
        );
      }
      remediation.push({
        title: `Make the server listen on the address clients use (${remote?.host}), or on the wildcard: '::' takes IPv6 and IPv4 (unless IPV6_V6ONLY), '0.0.0.0' IPv4 only`,
        commands: [ssCommand],
      });
      remediation.push({
        title: `Or connect to the address it listens on`,
        option: `host: '${other.local}'`,
      });
    } else {
      remediation.push({
        title: `Start the service that should listen on port ${port}, and check it stays up (its log says why it exited)`,
        commands: [ssCommand],
      });
      remediation.push({ title: `Or check the port: the client may be configured with the wrong one` });
    }
  } else {
    summary = `Connection refused by ${shown}: that host answered with a reset, nothing accepts on port ${port} there (or a firewall rejects)`;
    details.push(
      `${remote?.host ?? 'The destination'} is not an address of this network namespace: its listeners cannot be seen from here. ` +
        'A reset comes from the far host when nothing listens on the port, or from a firewall on the way with a REJECT --reject-with tcp-reset rule.',
    );
    if (elsewhere.length > 0) {
      details.push(
        `Here, port ${port} is listened on at ${listing(elsewhere.map(describeListener))}: if the service was meant to be this host, connect to that address.`,
      );
    }
    remediation.push({
      title: `On ${remote?.host ?? 'the destination'}, check that the service runs and listens on ${shown} (not only on 127.0.0.1)`,
      commands: [ssCommand],
    });
    remediation.push({
      title: 'Check for a firewall that rejects with a reset, on that host and on the way',
      commands: ['nft list ruleset | grep -i reject', 'iptables -S | grep -i reject'],
    });
  }

  const evidence: Record<string, unknown> = {
    destination: shown,
    port,
    destinationLocal: local,
    listeners: listeners ?? 'unavailable',
  };
  if (listeners !== undefined) {
    evidence['listenersOnDestination'] = covering.map(({ holder }) => holder);
    evidence['listenersElsewhere'] = elsewhere;
  }
  return { cause: 'connection-refused', code: ctx.code, summary, details, evidence, remediation };
}
