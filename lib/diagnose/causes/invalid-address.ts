// invalid-address: the input is not a usable address or port, so no system call was made.
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';

export function invalidAddress(ctx: Context): Diagnosis {
  const given = ctx.failure.local ?? ctx.failure.remote;
  const reason = ctx.failure.invalid ?? 'the address or port is not usable';
  return {
    cause: 'invalid-address',
    code: '',
    summary: `Not a usable address or port: ${reason}`,
    details: [
      `${reason}. No system call was made.`,
      ...(given !== undefined
        ? [`The ${ctx.failure.operation} target was host '${given.host}', port ${given.port}.`]
        : []),
    ],
    evidence: { invalid: reason, host: given?.host, port: given?.port, operation: ctx.failure.operation },
    remediation: [
      {
        title:
          'Fix the address in the configuration: IPv4 as 10.0.0.50:8080, IPv6 in brackets as [fd00::1]:443, link-local ' +
          'with its interface as [fe80::1%eth0]:80; ports 1-65535 (0 lets the kernel choose)',
      },
    ],
  };
}
