// safebind: the public entry point. Names exported here are public API (see DESIGN.md).
export type {
  Address,
  Cause,
  Diagnosis,
  Family,
  HostReport,
  PortUsage,
  PreflightCheck,
  PreflightReport,
  Protocol,
  Remediation,
  Result,
  SocketError,
} from './types.js';
export { explain, type ExplainContext } from './api/explain.js';
export { portUsage, PortUsageError, type PortUsageOptions } from './api/port-usage.js';
export { inspectHost, type InspectOptions } from './api/inspect.js';
export type { Failed } from './api/failed.js';
export { safeBind, type BindOptions, type BindResult, type BoundSocket } from './api/safe-bind.js';
export { safeListen, type ListenOptions, type ListenResult } from './api/safe-listen.js';
export { safeConnect, type ConnectOptions, type ConnectResult } from './api/safe-connect.js';
export { preflight, type ConnectTarget, type PreflightSpec } from './api/preflight.js';
export { AbortError } from './api/abort-error.js';
// watchErrors (issue 14): every socket failure of the process diagnosed; safebind/register prints them.
export { watchErrors, type ReportInfo, type WatchErrorsOptions } from './api/watch-errors.js';
// forecast (issue 16)
export { forecast, type Forecast, type ForecastOptions } from './api/forecast.js';
