// bind EADDRINUSE and EACCES: port-in-use by holder state, bind-ports-exhausted for port 0, and
// port-privileged below ip_unprivileged_port_start.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/index.js';
import { bindFailure, connectFailure, holder, snapshot, socketError, sysctls } from './fixtures.js';

describe('port-in-use', () => {
  it('TIME_WAIT-only holders put reuseAddress: true first and say libuv sets SO_REUSEADDR', () => {
    const holders = [
      holder('TIME_WAIT', { local: '10.0.0.10', remote: '10.0.0.9', remotePort: 40001 }),
      holder('TIME_WAIT', { local: '10.0.0.10', remote: '10.0.0.9', remotePort: 40002 }),
    ];
    const diagnosis = diagnose(bindFailure('10.0.0.10', 8080, 'EADDRINUSE'), snapshot({ holders }));
    expect(diagnosis.cause).toBe('port-in-use');
    expect(diagnosis.summary).toBe(
      'Port 8080 is held only by 2 TIME_WAIT sockets from recently closed connections: bind 10.0.0.10:8080 with reuseAddress: true',
    );
    expect(diagnosis.remediation[0]?.option).toBe('reuseAddress: true');
    expect(diagnosis.remediation[0]?.title).toMatch(/Node\/libuv/);
    expect(diagnosis.remediation.some((remedy) => remedy.option === 'reusePort: true')).toBe(false);
    expect(diagnosis.evidence).toMatchObject({ port: 8080, timeWait: 2, listening: 0, hidden: 0 });
    expect(diagnosis.details.some((line) => line.includes('Node (libuv) sets SO_REUSEADDR'))).toBe(true);
  });

  it('TIME_WAIT-only holders of a bind that had reuseAddress do not suggest it again', () => {
    const holders = [holder('TIME_WAIT', { local: '10.0.0.10', remote: '10.0.0.9', remotePort: 40001 })];
    const failure = bindFailure('10.0.0.10', 8080, 'EADDRINUSE', { reuseAddress: true });
    const diagnosis = diagnose(failure, snapshot({ holders }));
    expect(diagnosis.cause).toBe('port-in-use');
    expect(diagnosis.summary).toBe(
      'Cannot bind 10.0.0.10:8080: port 8080 is held only by 1 TIME_WAIT socket of connections bound without SO_REUSEADDR, which block even a bind with it',
    );
    expect(diagnosis.evidence).toMatchObject({ reuseAddress: true, timeWait: 1 });
    expect(diagnosis.remediation.some((remedy) => remedy.option === 'reuseAddress: true')).toBe(false);
    expect(diagnosis.remediation[0]?.title).toMatch(/^Wait: TIME_WAIT ends 60 s/);
  });

  it('a visible listener is named with its pid, the ss command and kill, and reusePort comes with its conditions', () => {
    const holders = [holder('LISTEN', { pid: 4321, command: 'nginx', uid: 0 })];
    const diagnosis = diagnose(bindFailure('10.0.0.10', 8080, 'EADDRINUSE'), snapshot({ holders }));
    expect(diagnosis.cause).toBe('port-in-use');
    expect(diagnosis.summary).toBe(
      'Cannot bind 10.0.0.10:8080: port 8080 is taken, nginx (pid 4321) listens on 0.0.0.0:8080',
    );
    expect(diagnosis.remediation[0]?.commands).toEqual(["ss -ltnp 'sport = :8080'", 'kill 4321']);
    expect(diagnosis.remediation[0]?.title).toMatch(/^Stop nginx \(pid 4321\)/);
    const reusePort = diagnosis.remediation.find((remedy) => remedy.option === 'reusePort: true');
    expect(reusePort?.warning).toMatch(
      /every socket on the port sets SO_REUSEPORT and runs as the same user/,
    );
    expect(diagnosis.details).toContain('  tcp 0.0.0.0:8080 LISTEN: nginx (pid 4321, uid 0)');
    expect(diagnosis.details).toContain('0.0.0.0:8080 is the wildcard address: it covers 10.0.0.10 too.');
  });

  it('a listener whose process cannot be seen says what could not be seen and suggests ss as root', () => {
    const holders = [holder('LISTEN', { uid: 0, local: '::' })];
    const diagnosis = diagnose(bindFailure('0.0.0.0', 8080, 'EADDRINUSE'), snapshot({ holders }));
    expect(diagnosis.cause).toBe('port-in-use');
    expect(diagnosis.summary).toBe(
      'Cannot bind 0.0.0.0:8080: port 8080 is taken by a socket on [::]:8080 whose process could not be seen (uid 0)',
    );
    expect(diagnosis.evidence['hidden']).toBe(1);
    expect(
      diagnosis.details.some((line) => line.startsWith('1 holder shows no process: owned by uid 0')),
    ).toBe(true);
    expect(diagnosis.remediation[0]?.commands).toEqual(["sudo ss -tanp 'sport = :8080'"]);
  });

  it('a listen EADDRINUSE with no holder list still explains port-in-use and says the list was unavailable', () => {
    const failure = { ...bindFailure('0.0.0.0', 3000, 'EADDRINUSE'), operation: 'listen' as const };
    const diagnosis = diagnose(
      { ...failure, error: socketError('listen', 'EADDRINUSE', '0.0.0.0', 3000) },
      snapshot({ unavailable: ['port holders: /proc/net/tcp unreadable'] }),
    );
    expect(diagnosis.cause).toBe('port-in-use');
    expect(diagnosis.evidence['holders']).toBe('unavailable');
    expect(diagnosis.details).toContain('The sockets holding port 3000 could not be listed.');
    expect(diagnosis.details).toContain('Not checked: port holders: /proc/net/tcp unreadable.');
  });

  it('a UDP port held by a bound socket points at its process', () => {
    const holders = [
      holder('UNCONN', { protocol: 'udp', localPort: 5353, pid: 77, command: 'avahi-daemon' }),
    ];
    const diagnosis = diagnose(bindFailure('0.0.0.0', 5353, 'EADDRINUSE', {}, 'udp'), snapshot({ holders }));
    expect(diagnosis.cause).toBe('port-in-use');
    expect(diagnosis.remediation[0]?.commands).toEqual(["ss -lunp 'sport = :5353'", 'kill 77']);
  });
});

describe('bind-ports-exhausted', () => {
  it('bind to port 0 with EADDRINUSE shows the bound count, the range and the reserved ports', () => {
    const host = snapshot({
      boundPorts: { inUse: 18232, poolSize: 18232 },
      sysctls: sysctls({ ipLocalReservedPorts: [[40000, 49999]] }),
    });
    const diagnosis = diagnose(bindFailure('10.0.0.10', 0, 'EADDRINUSE'), host);
    expect(diagnosis.cause).toBe('bind-ports-exhausted');
    expect(diagnosis.summary).toBe(
      'No free port for tcp bind(10.0.0.10:0): 18,232 of 18,232 ports of the range 32768-60999 are bound',
    );
    expect(diagnosis.evidence).toMatchObject({ range: [32768, 60999], reserved: 10000, poolSize: 18232 });
    expect(diagnosis.details[0]).toBe(
      'tcp bind(10.0.0.10:0) asks the kernel for any free port of net.ipv4.ip_local_port_range 32768-60999 (28,232 ports) ' +
        'minus 10,000 reserved in net.ipv4.ip_local_reserved_ports (40000-49999) = 18,232; it found none (EADDRINUSE).',
    );
    expect(diagnosis.remediation[0]?.commands?.[0]).toBe(
      'sysctl -w net.ipv4.ip_local_port_range="1024 65535"',
    );
  });

  it('the bind step of a connect without bindAddressNoPort puts bindAddressNoPort first', () => {
    const failure = connectFailure('10.0.0.9', 5432, 'EADDRINUSE', {
      localAddress: '10.0.0.10',
      syscall: 'bind',
    });
    const diagnosis = diagnose(failure, snapshot());
    expect(diagnosis.cause).toBe('bind-ports-exhausted');
    expect(diagnosis.remediation[0]?.option).toBe('bindAddressNoPort: true');
  });
});

describe('port-privileged', () => {
  it('port 80 without CAP_NET_BIND_SERVICE gives the unit, setcap, sysctl and proxy fixes with real values', () => {
    const host = snapshot({ privileges: { euid: 1000, netBindService: false } });
    const diagnosis = diagnose(bindFailure('0.0.0.0', 80, 'EACCES'), host);
    expect(diagnosis.cause).toBe('port-privileged');
    expect(diagnosis.summary).toBe(
      'Cannot bind 0.0.0.0:80: port 80 is below 1024 (net.ipv4.ip_unprivileged_port_start) and this process lacks CAP_NET_BIND_SERVICE',
    );
    expect(diagnosis.remediation.map((remedy) => remedy.commands ?? [remedy.option])).toEqual([
      ['[Service]', 'AmbientCapabilities=CAP_NET_BIND_SERVICE'],
      ['setcap cap_net_bind_service=+ep $(readlink -f $(which node))'],
      [
        'sysctl -w net.ipv4.ip_unprivileged_port_start=80',
        "echo 'net.ipv4.ip_unprivileged_port_start = 80' > /etc/sysctl.d/90-ipv4-ip-unprivileged-port-start.conf",
      ],
      ['port: 8080'],
    ]);
    expect(diagnosis.remediation[1]?.warning).toMatch(/lost when node is upgraded/);
  });

  it('root with the capability dropped is called out', () => {
    const diagnosis = diagnose(
      bindFailure('0.0.0.0', 443, 'EACCES'),
      snapshot({ privileges: { euid: 0, netBindService: false } }),
    );
    expect(diagnosis.cause).toBe('port-privileged');
    expect(diagnosis.details[1]).toBe(
      'This process runs as uid 0 without CAP_NET_BIND_SERVICE: root with the capability dropped (a container, or a unit with CapabilityBoundingSet).',
    );
  });

  it('EACCES on a port above ip_unprivileged_port_start is not blamed on the port', () => {
    const host = snapshot({
      privileges: { euid: 1000, netBindService: false },
      sysctls: sysctls({ ipUnprivilegedPortStart: 80 }),
    });
    const diagnosis = diagnose(bindFailure('0.0.0.0', 80, 'EACCES'), host);
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.details).toContain(
      'Port 80 is not privileged here (net.ipv4.ip_unprivileged_port_start = 80).',
    );
  });

  it('EACCES with CAP_NET_BIND_SERVICE held is not blamed on the port', () => {
    const host = snapshot({ privileges: { euid: 1000, netBindService: true } });
    expect(diagnose(bindFailure('0.0.0.0', 80, 'EACCES'), host).cause).toBe('unknown');
  });
});

describe('port-privileged when ip_unprivileged_port_start could not be read', () => {
  it('names the sysctl and says it was not read, instead of stating the default 1024 as the limit', () => {
    const unread = sysctls({ unreadable: { 'net.ipv4.ip_unprivileged_port_start': 'EACCES' } });
    delete unread.ipUnprivilegedPortStart;
    const host = snapshot({ sysctls: unread, privileges: { euid: 1000, netBindService: false } });
    // 2000 is above the default: only the kernel's EACCES says it is privileged here.
    const diagnosis = diagnose(bindFailure('0.0.0.0', 2000, 'EACCES'), host);
    expect(diagnosis.cause).toBe('port-privileged');
    expect(diagnosis.summary).toBe(
      'Cannot bind 0.0.0.0:2000: port 2000 is below net.ipv4.ip_unprivileged_port_start and this process lacks CAP_NET_BIND_SERVICE',
    );
    expect(diagnosis.details[0]).toMatch(
      /net\.ipv4\.ip_unprivileged_port_start could not be read \(EACCES\)\.$/,
    );
    expect(JSON.stringify(diagnosis)).not.toContain('1024');
  });
});
