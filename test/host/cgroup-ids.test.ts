// Container and pod ids from /proc/PID/cgroup as the runtimes write them: named when every line
// that names one agrees, never guessed.
import { describe, expect, it } from 'vitest';
import { cgroupIds, commonIds } from '../../lib/host/cgroup-ids.js';

const ID = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);
const ID2 = 'b'.repeat(64);
const UID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

describe('cgroupIds', () => {
  it.each([
    ['docker, cgroupfs driver', `0::/docker/${ID}\n`, { container: ID }],
    ['docker, systemd driver', `0::/system.slice/docker-${ID}.scope\n`, { container: ID }],
    [
      'cri-o',
      `0::/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/crio-${ID}.scope`,
      { container: ID, pod: UID },
    ],
    [
      'containerd, systemd driver',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${ID}.scope`,
      { container: ID, pod: UID },
    ],
    [
      'containerd, cgroupfs driver',
      `12:memory:/kubepods/besteffort/pod${UID}/${ID}\n0::/\n`,
      { container: ID, pod: UID },
    ],
    ['podman', `0::/machine.slice/libpod-${ID}.scope/container`, { container: ID }],
    ['a host process', '0::/user.slice/user-1000.slice/session-2.scope\n', {}],
    ['cri-o conmon is not the container', `0::/system.slice/crio-conmon-${ID}.scope`, {}],
    ['hierarchies that disagree', `4:memory:/docker/${ID}\n0::/docker/${ID2}\n`, {}],
    ['"pod" outside kubepods', `0::/system.slice/pod${UID}.slice`, {}],
  ])('%s', (_, text, want) => {
    expect(cgroupIds(text)).toEqual(want);
  });
});

describe('commonIds', () => {
  it('a pod sandbox and its app container share a pod, not a container', () => {
    expect(
      commonIds([
        { container: ID, pod: UID },
        { container: ID2, pod: UID },
      ]),
    ).toEqual({ pod: UID });
  });
  it('one process that names nothing leaves the namespace unlabelled', () => {
    expect(commonIds([{ container: ID }, {}])).toEqual({});
  });
});
