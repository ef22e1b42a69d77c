// One Diagnosis for several failures of one operation: the attempts of a happy-eyeballs connect to
// a name with several addresses (an AggregateError's members), or the distinct socket errors found
// along an error's `.cause` chain. Pure: the members are already diagnosed.
import type { Cause, Diagnosis, Remediation } from '../types.js';
import { listing } from './text.js';

/**
 * Which member's cause leads the summary when the members differ, lowest first. The principle:
 * the cause that says most about what to fix leads.
 *
 * 1. This host's own set-up for the request (a source address it lacks, its source ports used up,
 *    an address it cannot bind): fixing it here fixes every attempt.
 * 2. `connection-refused`: that attempt got furthest, to a host that answered; what is left is the
 *    server's, and it is the family or address the client is meant to reach.
 * 3. `name-not-resolved`.
 * 4. `no-route` and `family-unavailable`: most often the other family of a dual-stack name, which
 *    this network was never meant to reach (::1 with IPv6 off, an AAAA record without IPv6 routes).
 * 5. `unsupported-platform`, then `unknown`, which never leads while another cause is known.
 *
 * Between members of equal rank the first one found leads (the order the library tried them in).
 */
export const CAUSE_RANK = {
  'source-not-local': 1,
  'ephemeral-ports-exhausted': 1,
  'bind-ports-exhausted': 1,
  'port-in-use': 1,
  'port-privileged': 1,
  'address-not-local': 1,
  'address-appeared': 1,
  'address-tentative': 1,
  'address-dad-failed': 1,
  'address-on-other-host': 1,
  'scope-id-required': 1,
  'invalid-address': 1,
  'connection-refused': 2,
  'name-not-resolved': 3,
  'no-route': 4,
  'family-unavailable': 4,
  'unsupported-platform': 5,
  unknown: 6,
} satisfies Record<Cause, number>;

/** A member's Diagnosis with where it was found in the error handed over ('errors[0]', 'cause'). */
export interface Member {
  path: string;
  diagnosis: Diagnosis;
}

/** Each fix once, by title, in the order the members give them (the leading member's first). */
function mergeRemediation(ordered: readonly Member[]): Remediation[] {
  const titles = new Set<string>();
  const out: Remediation[] = [];
  for (const { diagnosis } of ordered) {
    for (const fix of diagnosis.remediation) {
      if (titles.has(fix.title)) continue;
      titles.add(fix.title);
      out.push(fix);
    }
  }
  return out;
}

/**
 * Summarises the diagnoses of several failures in one. When all share a cause, that cause; else
 * the cause ranked first by {@link CAUSE_RANK}. The summary is the leading member's, with how many
 * attempts failed; `details` give each member's cause and summary, then the leading member's
 * reasoning; `evidence.members` holds every member's Diagnosis.
 */
export function combineDiagnoses(members: readonly Member[], what: string): Diagnosis {
  const first = members[0];
  if (first === undefined) throw new TypeError('combineDiagnoses needs at least one member');
  if (members.length === 1) return first.diagnosis;
  let lead = first;
  for (const m of members) if (CAUSE_RANK[m.diagnosis.cause] < CAUSE_RANK[lead.diagnosis.cause]) lead = m;
  const ordered = [lead, ...members.filter((m) => m !== lead)];
  const causes = [...new Set(members.map((m) => m.diagnosis.cause))];
  const same = causes.length === 1;
  const n = members.length;
  const summary = same
    ? `${lead.diagnosis.summary} (all ${n} attempts failed the same way)`
    : `${lead.diagnosis.summary} (${n} attempts failed: ${listing(causes)})`;
  const details = [
    `${what} holds ${n} distinct failures; ${same ? `all are ${lead.diagnosis.cause}` : `the causes differ, ${lead.diagnosis.cause} leads (a fix on this host first, then the attempt that got furthest)`}:`,
    ...members.map((m) => `  ${m.path}: ${m.diagnosis.cause}: ${m.diagnosis.summary}`),
    ...lead.diagnosis.details,
  ];
  for (const m of members) {
    if (m === lead || (same && m.diagnosis.details.join('\n') === lead.diagnosis.details.join('\n')))
      continue;
    details.push(`For ${m.path}:`, ...m.diagnosis.details.map((line) => `  ${line}`));
  }
  return {
    cause: lead.diagnosis.cause,
    code: lead.diagnosis.code,
    summary,
    details,
    evidence: {
      ...lead.diagnosis.evidence,
      members: members.map((m) => ({ path: m.path, ...m.diagnosis })),
    },
    remediation: mergeRemediation(ordered),
  };
}
