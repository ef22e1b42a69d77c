// The bind-conflict rule against every row of the table measured in docs/kernel-facts.md ("bind()
// conflicts on one TCP port"): the holder, each bind that conflicts, each that does not, and the
// exceptions (SO_REUSEADDR, SO_REUSEPORT, TIME_WAIT).
import { describe, expect, it } from 'vitest';
import { conflicts, type Holder, type NewBind } from '../../lib/model/index.js';

type End = [address: string, v6only?: boolean];
const listener = ([address, v6only]: End, extra: Partial<Holder> = {}): Holder => ({
  address,
  v6only,
  state: 'LISTEN',
  uid: 0,
  ...extra,
});
const plain = ([address, v6only]: End, extra: Partial<NewBind> = {}): NewBind => ({
  address,
  v6only,
  protocol: 'tcp',
  listening: false,
  reuseAddress: false,
  reusePort: false,
  ...extra,
});

// holder → [binds that conflict, binds that do not], as measured.
const TABLE: Array<[End, End[], End[]]> = [
  [
    ['0.0.0.0'],
    [['0.0.0.0'], ['10.1.2.3'], ['127.0.0.1'], ['::', false], ['::ffff:10.1.2.3']],
    [['::', true], ['::1']],
  ],
  [
    ['127.0.0.1'],
    [['0.0.0.0'], ['127.0.0.1'], ['::', false], ['::ffff:127.0.0.1']],
    [['127.0.0.2'], ['::', true], ['::1']],
  ],
  [
    ['::', false],
    [['0.0.0.0'], ['10.1.2.3'], ['::', false], ['::', true], ['::1'], ['::ffff:127.0.0.1']],
    [],
  ],
  [
    ['::', true],
    [['::', false], ['::', true], ['::1']],
    [['0.0.0.0'], ['127.0.0.1'], ['::ffff:127.0.0.1']],
  ],
  [
    ['::1', true],
    [['::', false], ['::', true], ['::1']],
    [['0.0.0.0'], ['127.0.0.1'], ['::ffff:127.0.0.1']],
  ],
  [
    ['::ffff:127.0.0.1', false],
    [['0.0.0.0'], ['127.0.0.1'], ['::', false], ['::ffff:127.0.0.1']],
    [['::', true], ['::1']],
  ],
];
const show = ([a, v]: End) => (v === undefined ? a : `${a} v6only=${v ? 1 : 0}`);

describe('conflicts(): the address rule, measured on 6.18', () => {
  for (const [holder, yes, no] of TABLE) {
    for (const bind of yes)
      it(`a listener on ${show(holder)} blocks a bind of ${show(bind)}`, () => {
        expect(conflicts(listener(holder), plain(bind)).verdict).toBe('conflict');
      });
    for (const bind of no)
      it(`a listener on ${show(holder)} leaves a bind of ${show(bind)} alone`, () => {
        expect(conflicts(listener(holder), plain(bind)).verdict).toBe('none');
      });
  }

  it("a new '::' bind without ipv6Only follows net.ipv6.bindv6only; not read, it is 'maybe'", () => {
    expect(conflicts(listener(['0.0.0.0']), plain(['::']), false).verdict).toBe('conflict');
    expect(conflicts(listener(['0.0.0.0']), plain(['::']), true).verdict).toBe('none');
    const unread = conflicts(listener(['0.0.0.0']), plain(['::']));
    expect(unread.verdict).toBe('maybe');
    expect(unread.reason).toContain('net.ipv6.bindv6only was not read');
    // Where the flag cannot matter, not knowing the sysctl changes nothing.
    expect(conflicts(listener(['0.0.0.0']), plain(['127.0.0.1'])).verdict).toBe('conflict');
    expect(conflicts(listener(['::', true]), plain(['::'])).verdict).toBe('conflict');
    // An explicit ipv6Only outweighs the sysctl (Node's TCP listen always sets it; kernel-facts).
    expect(conflicts(listener(['0.0.0.0']), plain(['::', false]), true).verdict).toBe('conflict');
  });

  it("a '::' holder whose IPV6_V6ONLY was not reported is 'maybe' for an IPv4 bind, a conflict for IPv6", () => {
    const h: Holder = { address: '::', state: 'LISTEN', uid: 0 };
    expect(conflicts(h, plain(['127.0.0.1'])).verdict).toBe('maybe');
    expect(conflicts(h, plain(['::1'])).verdict).toBe('conflict');
  });
});

describe('conflicts(): the exceptions', () => {
  const both = { reuseAddress: true };
  it('both SO_REUSEADDR, neither listening: no conflict', () => {
    const h = listener(['0.0.0.0'], { state: 'CLOSE', reuseAddress: true });
    expect(conflicts(h, plain(['127.0.0.1'], both)).verdict).toBe('none');
  });
  it('both SO_REUSEADDR, but the new socket is at listen(): conflict', () => {
    const h = listener(['0.0.0.0'], { state: 'CLOSE', reuseAddress: true });
    expect(conflicts(h, plain(['127.0.0.1'], { ...both, listening: true })).verdict).toBe('conflict');
  });
  it('a listening holder blocks even when both set SO_REUSEADDR', () => {
    const h = listener(['0.0.0.0'], { reuseAddress: true });
    const answer = conflicts(h, plain(['0.0.0.0'], both));
    expect(answer.verdict).toBe('conflict');
    expect(answer.reason).toMatch(/never shares a port with a listener/);
  });
  it('an ESTABLISHED holder with SO_REUSEADDR lets an SO_REUSEADDR bind through', () => {
    const h = listener(['127.0.0.1'], { state: 'ESTABLISHED', reuseAddress: true });
    expect(conflicts(h, plain(['127.0.0.1'], both)).verdict).toBe('none');
  });
  it('a holder whose SO_REUSEADDR sock_diag cannot show is "maybe", never a guess', () => {
    const h = listener(['127.0.0.1'], { state: 'ESTABLISHED' });
    expect(conflicts(h, plain(['127.0.0.1'], both)).verdict).toBe('maybe');
  });
  it('TIME_WAIT blocks a bind without SO_REUSEADDR; with it the answer depends on the original socket', () => {
    const tw = listener(['127.0.0.1'], { state: 'TIME_WAIT' });
    expect(conflicts(tw, plain(['127.0.0.1'])).verdict).toBe('conflict');
    expect(conflicts(tw, plain(['0.0.0.0'])).verdict).toBe('conflict');
    expect(conflicts(tw, plain(['::', false])).verdict).toBe('conflict');
    expect(conflicts(tw, plain(['::', true])).verdict).toBe('none');
    const answer = conflicts(tw, plain(['127.0.0.1'], both));
    expect(answer.verdict).toBe('maybe');
    expect(answer.reason).toMatch(/TIME_WAIT/);
  });
  it('both SO_REUSEPORT and one uid: no conflict, 0.0.0.0 holder and 127.0.0.1 newcomer included', () => {
    const h = listener(['0.0.0.0'], { reusePort: true, uid: 1000 });
    expect(conflicts(h, plain(['127.0.0.1'], { reusePort: true, uid: 1000 })).verdict).toBe('none');
    expect(conflicts(h, plain(['127.0.0.1'], { reusePort: true, uid: 1001 })).verdict).toBe('conflict');
    expect(conflicts(h, plain(['127.0.0.1'])).verdict).toBe('conflict');
    expect(conflicts(listener(['0.0.0.0']), plain(['127.0.0.1'], { reusePort: true })).verdict).toBe('maybe');
  });
  it('UDP: SO_REUSEADDR on both shares whatever the state', () => {
    const h = listener(['0.0.0.0'], { state: 'UNCONN', reuseAddress: true });
    expect(conflicts(h, plain(['0.0.0.0'], { protocol: 'udp', reuseAddress: true })).verdict).toBe('none');
  });
});

describe('conflicts(): SO_BINDTODEVICE, measured on 6.18', () => {
  it('two sockets bound to different devices never conflict, whatever their addresses', () => {
    expect(
      conflicts(listener(['0.0.0.0'], { device: 'd0' }), plain(['0.0.0.0'], { device: 'd1' })).verdict,
    ).toBe('none');
    expect(
      conflicts(listener(['::', false], { device: 'd0' }), plain(['0.0.0.0'], { device: 'd1' })).verdict,
    ).toBe('none');
  });

  it('the same device, or one side bound and the other not, falls to the address rule', () => {
    expect(
      conflicts(listener(['0.0.0.0'], { device: 'd0' }), plain(['0.0.0.0'], { device: 'd0' })).verdict,
    ).toBe('conflict');
    expect(conflicts(listener(['0.0.0.0'], { device: 'd0' }), plain(['10.70.0.1'])).verdict).toBe('conflict');
    expect(
      conflicts(listener(['0.0.0.0'], { device: '' }), plain(['0.0.0.0'], { device: 'd0' })).verdict,
    ).toBe('conflict');
    expect(
      conflicts(listener(['::', true], { device: 'd0' }), plain(['0.0.0.0'], { device: 'd0' })).verdict,
    ).toBe('none');
  });

  it("a holder whose device is unknown (/proc/net) is only 'maybe' for a bind to a device", () => {
    expect(conflicts(listener(['0.0.0.0']), plain(['0.0.0.0'], { device: 'd1' })).verdict).toBe('maybe');
    expect(conflicts(listener(['0.0.0.0']), plain(['0.0.0.0'])).verdict).toBe('conflict');
  });
});
