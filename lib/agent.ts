// safebind/agent: http and https Agents and an undici Dispatcher whose connections leave from a pool of
// source addresses with IP_BIND_ADDRESS_NO_PORT, so each source has a pool of source ports per
// destination instead of one pool shared by all destinations (the ~28k limit of `localAddress`).
export {
  createAgent,
  createDispatcher,
  createHttpsAgent,
  type AgentOptions,
  type DispatcherOptions,
  type HttpsAgentOptions,
  type SourceOptions,
} from './api/agents.js';
export { SourceConnectError } from './api/pool-connect.js';
export type { SourceFailure, SourcePoolOptions } from './api/source-pool.js';
export type { SourceFigures } from './api/sources-diagnosis.js';
export { localPortRangeSlice, type PortRangeSlice } from './api/port-range-slice.js';
