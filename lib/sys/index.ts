// lib/sys: typed socket operations over the addon, each returning a Result. The api layer builds on
// these; nothing here decides policy or explains failures.
export {
  formatHost,
  formatTarget,
  isHostName,
  parseHost,
  parsePort,
  parseTarget,
  sockAddr,
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
export { interfaceIndex, interfaceList, interfaceName } from './interfaces.js';
export {
  bindAddressNoPort,
  device,
  freebind,
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
  setReuseAddress,
  setReusePort,
  setTransparent,
  transparent,
} from './options.js';
export {
  bind,
  closeSocket,
  connect,
  listen,
  localAddress,
  openSocket,
  pendingError,
  remoteAddress,
  requireFamily,
  requireFd,
} from './socket.js';
