// bind-ports-exhausted: bind(…, 0) found no free port in the ephemeral range. A port taken by bind
// is held for every destination, so this pool is far smaller than connect's per-destination one.
import type { Diagnosis, Remediation } from '../../types.js';
import { formatPercent, formatRanges, usageRatio } from '../../model/index.js';
import type { Context } from '../context.js';
import { shownLocalPort } from '../local-address.js';
import { widenRangeRemedy } from '../remedies.js';
import { localPool, notReadSentence } from '../source-pool.js';
import { count, formatEndpoint } from '../text.js';

export function bindPortsExhausted(ctx: Context): Diagnosis {
  const pool = localPool(ctx);
  const bound = ctx.host.boundPorts;
  const protocol = ctx.failure.protocol;
  const shown = shownLocalPort(ctx, 0);
  const noPortStep = ctx.failure.operation === 'connect' && ctx.failure.options.bindAddressNoPort !== true;
  const details = [
    pool.notRead !== undefined
      ? `${protocol} bind(${shown}) asks the kernel for any free port of net.ipv4.ip_local_port_range; it found none (EADDRINUSE). ` +
        notReadSentence(pool)
      : `${protocol} bind(${shown}) asks the kernel for any free port of net.ipv4.ip_local_port_range ${pool.range[0]}-${pool.range[1]} ` +
        `(${count(pool.rangeSize)} ports) minus ${count(pool.reserved)} reserved in net.ipv4.ip_local_reserved_ports` +
        (pool.reserved > 0 ? ` (${formatRanges(pool.reservedRanges)})` : '') +
        ` = ${count(pool.poolSize)}; it found none (EADDRINUSE).`,
  ];
  if (bound !== undefined) {
    details.push(
      `${count(bound.inUse)} of ${count(bound.poolSize)} ports of the range are bound now (${formatPercent(usageRatio(bound.inUse, bound.poolSize))}).`,
    );
  }
  details.push(
    'A port taken by bind(…, 0) is held for every destination: the per-destination sharing that connect() gets does not apply.',
  );
  if (noPortStep) {
    details.push(
      `This bind was the source-address step of a connect to ${ctx.remote === undefined ? 'the destination' : formatEndpoint(ctx.remote.host, ctx.remote.port)} without bindAddressNoPort.`,
    );
  }
  const remediation: Remediation[] = [];
  if (noPortStep) {
    remediation.push({
      title:
        'Choose the source port at connect time (IP_BIND_ADDRESS_NO_PORT): ports are then shared across destinations',
      option: 'bindAddressNoPort: true',
    });
  }
  const widen = widenRangeRemedy(pool);
  if (widen !== undefined) remediation.push(widen);
  const flag = protocol === 'udp' ? 'u' : 't';
  remediation.push({
    title: 'Find the processes holding the most ports and close the sockets they do not use',
    commands: [`ss -H${flag}anp | grep -o 'users:(("[^"]*",pid=[0-9]*' | sort | uniq -c | sort -rn | head`],
  });
  return {
    cause: 'bind-ports-exhausted',
    code: ctx.code,
    summary:
      bound !== undefined
        ? `No free port for ${protocol} bind(${shown}): ${count(bound.inUse)} of ${count(bound.poolSize)} ports of the range ${pool.range[0]}-${pool.range[1]} are bound`
        : pool.notRead !== undefined
          ? `No free port for ${protocol} bind(${shown}): every port of the ephemeral range is bound (the range could not be read)`
          : `No free port for ${protocol} bind(${shown}): every port of the range ${pool.range[0]}-${pool.range[1]} is bound`,
    details,
    evidence: {
      address: ctx.local?.host,
      port: 0,
      protocol,
      boundPorts: bound,
      range: pool.range,
      reserved: pool.reserved,
      reservedRanges: pool.reservedRanges,
      poolSize: pool.poolSize,
    },
    remediation,
  };
}
