// lib/sys: typed socket operations over the addon, each returning a Result. The api layer builds on
// these; nothing here decides policy or explains failures.
export {
  formatHost,
  formatTarget,
  interfaceNameProblem,
  isHostName,
  parseDestination,
  parseDestinationPort,
  parseHost,
  parsePort,
  parseTarget,
  PORT_ZERO_DESTINATION,
  quoteValue,
  sockAddr,
  type Destination,
  type Parsed,
  type ParsedHost,
  type SockAddr,
  type Target,
} from './address.js';
export {
  failure,
  isUnsupported,
  socketError,
  unsupportedError,
  UNSUPPORTED_SYSCALL,
  type ErrorTarget,
} from './errors.js';
export { requireFamily, requireFd } from './checks.js';
export { interfaceIndex, interfaceList, interfaceName } from './interfaces.js';
export {
  bindAddressNoPort,
  device,
  freebind,
  getOption,
  ipv6Only,
  linger,
  localPortRange,
  reuseAddress,
  reusePort,
  setBindAddressNoPort,
  setDevice,
  setFreebind,
  setIpv6Only,
  setLinger,
  setLocalPortRange,
  setOption,
  setReuseAddress,
  setReusePort,
  setTransparent,
  SOCKET_OPTIONS,
  transparent,
  type OptionName,
  type OptionValue,
  type OptionSpec,
  type SocketOptions,
} from './options.js';
export { openSocket, type SocketSpec } from './recipe.js';
export {
  bind,
  closeSocket,
  connect,
  listen,
  localAddress,
  newSocket,
  pendingError,
  remoteAddress,
} from './socket.js';
