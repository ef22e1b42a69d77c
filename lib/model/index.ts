// The pure model every layer shares: IP addresses and their zones, which sockets conflict on a
// port, subnets, the local port pool and the percent rule. No I/O; it imports only lib/types and the pure lib/sys/ip-text, so every layer
// (lib/host and lib/sys included) can use it.
export * from './bind-conflict.js';
export * from './ip.js';
export * from './percent.js';
export * from './pool.js';
export * from './subnet.js';
export * from './source-choice.js';
export * from './forecast.js';
export * from './time-wait.js';
