// The container and the Kubernetes pod a process belongs to, read from its /proc/PID/cgroup as the
// runtimes name their cgroups: Docker (`/docker/ID`, `docker-ID.scope`), containerd
// (`cri-containerd-ID.scope`, `/kubepods/…/podUID/ID`), CRI-O (`crio-ID.scope`), Podman
// (`libpod-ID.scope`), and the kubelet's pod slices (`kubepods-besteffort-pod<UID with _>.slice`,
// `/kubepods/burstable/pod<UID>`). Pure: the text in, the ids out. What no line names stays
// undefined, and lines that disagree give undefined too: a label is never guessed.

/** What a cgroup file names; each field absent when it names none, or names several. */
export interface CgroupIds {
  /** The 64-hex-digit container id. */
  container?: string;
  /** The pod's UID, with dashes (8-4-4-4-12). */
  pod?: string;
}

// CRI-O's `crio-conmon-ID.scope` is its monitor process, not the container: not matched.
const CONTAINER = /^(?:docker-|cri-containerd-|crio-|libpod-)?([0-9a-f]{64})(?:\.scope)?$/;
const POD = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

/** One value when every non-empty answer agrees, else undefined. */
function agreed(values: Array<string | undefined>): string | undefined {
  const seen = new Set(values.filter((v): v is string => v !== undefined));
  return seen.size === 1 ? [...seen][0] : undefined;
}

function idsOfPath(path: string): CgroupIds {
  let container: string | undefined;
  let pod: string | undefined;
  for (const segment of path.split('/')) {
    const c = CONTAINER.exec(segment);
    if (c) container = c[1];
    // Only under a kubepods hierarchy: "pod…" alone could be any unit's name.
    const p = path.includes('kubepods') ? POD.exec(segment) : null;
    if (p) pod = p[1]!.replaceAll('_', '-');
  }
  return { ...(container ? { container } : {}), ...(pod ? { pod } : {}) };
}

/**
 * The ids named by a /proc/PID/cgroup text (`hierarchy-ID:controllers:path` per line). On a host
 * with both cgroup versions mounted, some hierarchies may hold the process at their root: a line
 * that names nothing is silent, two lines that name different ids make that id unknown.
 */
export function cgroupIds(text: string): CgroupIds {
  const found: CgroupIds[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    found.push(idsOfPath(line.slice(second + 1)));
  }
  const container = agreed(found.map((f) => f.container));
  const pod = agreed(found.map((f) => f.pod));
  return { ...(container ? { container } : {}), ...(pod ? { pod } : {}) };
}

/**
 * The ids every member agrees on: a namespace shared by processes of two containers (a pod's
 * sandbox and its app containers) has a pod but no single container. A member that names no
 * container makes the container unknown too: the namespace is not that container's alone.
 */
export function commonIds(members: CgroupIds[]): CgroupIds {
  if (members.length === 0) return {};
  const all = (key: keyof CgroupIds) =>
    members.every((m) => m[key] !== undefined) ? agreed(members.map((m) => m[key])) : undefined;
  const container = all('container');
  const pod = all('pod');
  return { ...(container ? { container } : {}), ...(pod ? { pod } : {}) };
}
