// explain() on http.request({ localAddress }) with a source address that is on no interface: Node
// hands over a plain `bind EADDRNOTAVAIL 10.9.9.9` with no port, the same fields a dgram bind has,
// and it must explain as the source of a connection, not as a bind of its own.
import dgram from 'node:dgram';
import http from 'node:http';
import { expect } from 'vitest';
import { explain } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { listener, type NodeSystemError } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

function requestError(options: http.RequestOptions): Promise<NodeSystemError> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, () => reject(new Error('the request succeeded')));
    req.once('error', (e) => resolve(e as NodeSystemError));
    req.end();
  });
}

eachReader('explain() on http.request({ localAddress }), against the real kernel', () => {
  netnsIt('a localAddress on no interface explains source-not-local without any context', async (ns) => {
    ns.run('ip link add v0 type veth peer name v1');
    ns.run('ip link set v0 up');
    ns.run('ip link set v1 up');
    ns.run('ip addr add 10.9.0.1/24 dev v0');
    await listener(8080, '10.9.0.1');
    const err = await requestError({ host: '10.9.0.1', port: 8080, localAddress: '10.9.0.77' });
    expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.9.0.77' });
    expect(err.port).toBeUndefined();

    const d = await explain(err);
    expect(d.cause).toBe('source-not-local');
    expect(d.summary).toContain(
      'from 10.9.0.77: the source address 10.9.0.77 is not an address of this host',
    );
    expect(d.remediation[1]?.commands).toEqual(['ip addr add 10.9.0.77/24 dev v0']);

    // With the destination in the context the summary names it too.
    const named = await explain(err, { host: '10.9.0.1', port: 8080 });
    expect(named.cause).toBe('source-not-local');
    expect(named.summary).toContain('Cannot connect to 10.9.0.1:8080 from 10.9.0.77');
  });

  netnsIt('a dgram bind of the same absent address, port 0, still explains address-not-local', async () => {
    const socket = dgram.createSocket('udp4');
    const err = await new Promise<NodeSystemError>((resolve) => {
      socket.once('error', (e) => {
        socket.close();
        resolve(e as NodeSystemError);
      });
      socket.bind(0, '10.9.0.77');
    });
    expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.9.0.77' });
    const d = await explain(err, { protocol: 'udp' });
    expect(d.cause).toBe('address-not-local');
  });
});
