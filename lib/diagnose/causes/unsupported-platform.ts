// unsupported-platform: not Linux, or Linux where the native addon could not be loaded.
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';

export function unsupportedPlatform(ctx: Context): Diagnosis {
  const platform = ctx.host.platform;
  if (platform === 'linux') {
    // Linux, but the native addon could not be loaded: the error's message lists every path tried.
    return {
      cause: 'unsupported-platform',
      code: ctx.code,
      summary: 'safebind could not load its native addon on this Linux host',
      details: [
        `The failure was: ${ctx.error?.message ?? 'no native build could be loaded'}.`,
        'No prebuilt addon fits this libc and CPU, and none was compiled at install time.',
      ],
      evidence: { platform, error: ctx.error ?? undefined },
      remediation: [
        {
          title: 'Compile the addon for this host (needs python3, make and a C++ compiler)',
          commands: ['npm rebuild safebind'],
        },
      ],
    };
  }
  return {
    cause: 'unsupported-platform',
    code: ctx.code,
    summary: `safebind explains socket failures on Linux only; this is ${platform}`,
    details: [
      `process.platform is '${platform}'.`,
      ...(ctx.error !== null ? [`The failure was: ${ctx.error.message}.`] : []),
    ],
    evidence: { platform, error: ctx.error ?? undefined },
    remediation: [],
  };
}
