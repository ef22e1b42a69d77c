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
