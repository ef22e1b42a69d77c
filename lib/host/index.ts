// The host readers: what the addresses, sysctls, socket table and routes of this namespace say.
export { findPortHolders } from './holders.js';
export { readPortUsage, topDestinations, type PortUsageQuery } from './port-usage.js';
export { probeNeighbour, readNeighbours } from './neighbours.js';
export { arpProbe } from './arp-probe.js';
export { lookupRoute } from './route.js';
export { readResolverConfig, type ResolverPaths } from './resolver.js';
export { readNetSysctls } from './sysctls.js';
export type { AddressWatch } from './watch.js';
export type * from './types.js';
export {
  countSockets,
  hostReader,
  listSockets,
  readAddresses,
  watchAddresses,
  type BindProbe,
  type HostReader,
} from './reader.js';
export { newConnections, sampleConnections, type ConnectionSample } from './connection-sample.js';
export { readTimeWaitSettings } from './time-wait-settings.js';
export { readConntrack } from './conntrack.js';
export { countBoundOnly, kernelListsBoundOnly } from './bound-only.js';
export { readNamespaceSysctls } from './namespace-sysctls.js';
export { readNamedNamespaceSysctls, type NamedNamespaces } from './named-netns.js';
