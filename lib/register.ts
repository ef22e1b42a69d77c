// safebind/register: `node --import safebind/register app.mjs`, `node -r safebind/register app.js`,
// or either in NODE_OPTIONS. Every bind, listen, connect or lookup failure the process meets is
// explained on stderr (a block starting `safebind:`), or as one JSON line each with
// SAFEBIND_EXPLAIN=json; SAFEBIND_EXPLAIN=off installs nothing at all.
//
// The ESM and CommonJS builds of this module can both be loaded in one process (a -r and an
// --import, or NODE_OPTIONS plus the command line): a registered symbol on globalThis lets the first
// one register and the second do nothing, so each failure is printed once.
import process from 'node:process';
import { watchErrors } from './api/watch-errors.js';
import { registerSettings } from './api/watch/register-env.js';
import { reportJson, reportText } from './api/watch/report.js';

const REGISTERED = Symbol.for('safebind.register.v1');

function register(): void {
  const slot = globalThis as { [REGISTERED]?: boolean };
  if (slot[REGISTERED] === true) return;
  slot[REGISTERED] = true;
  const settings = registerSettings(process.env);
  for (const warning of settings.warnings) process.stderr.write(`${warning}\n`);
  if (settings.mode === 'off') return;
  const format = settings.mode === 'json' ? reportJson : reportText;
  watchErrors({
    windowMs: settings.windowMs,
    onDiagnosis(diagnosis, _error, info) {
      process.stderr.write(format(diagnosis, info));
    },
  });
}

try {
  register();
} catch {
  // A preloaded module that throws would stop the application from starting: never.
}
