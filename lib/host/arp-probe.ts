// An RFC 5227 ARP probe: "who has T?" sent from sender address 0.0.0.0 with this interface's MAC,
// broadcast on one link through an AF_PACKET socket (packet(7)). Unlike the kernel's own ARP it
// needs no IPv4 address on the link and leaves no entry in anyone's table, so it finds a VIP's
// owner even where this host has no address in the VIP's subnet. Needs CAP_NET_RAW.
import { setTimeout as sleep } from 'node:timers/promises';
import { constants } from 'node:os';
import { formatIp, parseIp } from '../model/ip.js';
import { errnoResult } from '../sys/errors.js';
import type { Result } from '../types.js';
import { hostBinding, invalidInput } from './failure.js';
import type { Neighbour } from './types.js';

const EAGAIN = constants.errno.EAGAIN;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;
/** RFC 5227 sends PROBE_NUM = 3 probes; here they are spread over the caller's timeout. */
const PROBES = 3;

/** The 28-byte ARP request of RFC 5227 section 2.1.1: sender IP 0, target hardware address 0. */
function probePayload(mac: Buffer, target: Uint8Array): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt16BE(1, 0); // Ethernet
  p.writeUInt16BE(0x0800, 2); // IPv4
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(ARP_REQUEST, 6);
  mac.copy(p, 8);
  Buffer.from(target).copy(p, 24);
  return p;
}

const macText = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/**
 * Probes `device`'s link for `target` (IPv4) for up to `timeoutMs`. Resolves the host that answered
 * (an ARP reply, or any ARP whose sender address is the target: RFC 5227's conflict rule), or
 * undefined when none did. A failure to open, bind or send is a failed Result (EPERM without
 * CAP_NET_RAW); the socket is closed on every path.
 */
export async function arpProbe(
  device: string,
  target: string,
  timeoutMs = 1000,
): Promise<Result<Neighbour | undefined>> {
  const ip = parseIp(target);
  if (ip === undefined || ip.family !== 4) return invalidInput(`${target} is not an IPv4 address`);
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const ifindex = b.ifNameToIndex(device);
  if (ifindex < 0) return errnoResult('if_nametoindex', ifindex);
  const fd = b.arpSocket();
  if (fd < 0) return errnoResult('socket', fd);
  try {
    const bound = b.arpBind(fd, ifindex);
    if (bound < 0) return errnoResult('bind', bound);
    const mac = b.arpHardwareAddress(fd);
    if (typeof mac === 'number') return errnoResult('getsockname', mac);
    const payload = probePayload(Buffer.from(mac.split(':').map((h) => Number.parseInt(h, 16))), ip.bytes);
    const buffer = Buffer.alloc(128);
    const start = Date.now();
    let sent = 0;
    while (Date.now() - start < timeoutMs) {
      if (sent < PROBES && Date.now() - start >= (sent * timeoutMs) / PROBES) {
        const n = b.arpBroadcast(fd, ifindex, payload);
        if (n < 0) return errnoResult('sendto', n);
        sent++;
      }
      for (;;) {
        const n = b.arpRecv(fd, buffer);
        if (n === -EAGAIN) break; // nothing more queued
        if (n < 0) return errnoResult('recv', n);
        if (n < 28 || buffer.readUInt16BE(2) !== 0x0800 || buffer[4] !== 6 || buffer[5] !== 4) continue;
        const op = buffer.readUInt16BE(6);
        const sender = buffer.subarray(14, 18);
        if ((op === ARP_REPLY || op === ARP_REQUEST) && sender.equals(Buffer.from(ip.bytes))) {
          return {
            ok: true,
            value: {
              address: formatIp(ip),
              family: 4,
              interface: device,
              lladdr: macText(buffer.subarray(8, 14)),
              state: 'reachable',
              via: 'arp-probe',
            },
          };
        }
      }
      await sleep(10);
    }
    return { ok: true, value: undefined };
  } finally {
    b.close(fd);
  }
}
