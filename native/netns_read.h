// One network namespace read by a thread of its own that entered it: the TCP socket table grouped
// by destination in one walk, and files (sysctls under /proc/sys/net) opened after the thread
// entered it. setns(2), namespaces(7), sock_diag(7), pthread_create(3). No N-API here.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "netlink.h"

namespace safebind {

// A destination: IPv4 in the first 4 bytes (v4-mapped IPv6 is folded to IPv4), port in host order.
struct NsDest {
  int family = 0;  // AF_INET or AF_INET6
  uint8_t addr[16] = {0};
  uint16_t port = 0;
};

// TIME_WAIT timers in 1-s buckets: bucket k holds the sockets whose timer reads k000..k999 ms.
constexpr size_t kTwBuckets = 60;

struct NsGroup {
  NsDest dest;
  uint32_t total = 0;
  uint32_t counts[kNlStates] = {0};
  // TIME_WAIT sockets (idiag_timer 3) whose timer started after the previous reading: timer above
  // TCP_TIMEWAIT_LEN less the time since then (all of them when there was no previous reading).
  uint32_t fresh_time_wait = 0;
  uint32_t time_wait_timers[kTwBuckets] = {0};
};

struct NsReadQuery {
  // The namespace file to enter (/run/netns/NAME, /proc/PID/ns/net). Never empty.
  std::string path;
  // Destinations counted whatever their socket's local port (as portUsage counts them).
  std::vector<NsDest> dests;
  // How many of the busiest destinations of outbound sockets to return besides `dests` (0: none).
  size_t top = 0;
  // Absolute paths read after the thread entered the namespace (sysctls: /proc/sys/net/...).
  std::vector<std::string> files;
  // CLOCK_MONOTONIC (ms) at the start of the previous walk of this namespace; 0: none.
  double since_ms = 0;
};

struct NsFile {
  int rc = 0;  // 0, or -errno of open/read
  std::string text;
};

struct NsReadResult {
  int open_rc = 0;   // -errno of open(path)
  int setns_rc = 0;  // -errno of setns
  uint64_t inode = 0;
  uint64_t dev = 0;
  double walk_ms = 0;  // CLOCK_MONOTONIC (ms) at the start of the walk
  int diag_rc = 0;     // -errno of the sock_diag walk (then the counts below are not read)
  uint32_t states[kNlStates] = {0};
  // Each destination's figures are its fullest pool's: connections toward it from several source
  // addresses are several pools (one source each), and the fullest fails first.
  std::vector<NsGroup> top;    // busiest first (total, then family, address, port), not in dests
  std::vector<NsGroup> dests;  // one per query dest, in order
  std::vector<NsFile> files;   // one per query file, in order
};

// Runs the read on a new thread that enters the namespace, reads, and exits; the calling thread
// never changes namespace. 0 (then see the result's own codes) or -errno of pthread_create.
int ns_read(const NsReadQuery& query, NsReadResult* out);

}  // namespace safebind
