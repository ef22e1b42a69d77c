// The one netlink request/dump helper the rtnetlink and sock_diag readers share. netlink(7),
// rtnetlink(7), sock_diag(7). No N-API here.
#pragma once

#include <errno.h>
#include <linux/netlink.h>
#include <stddef.h>

namespace safebind {

// Called for each reply message that is not NLMSG_DONE / NLMSG_ERROR. Returns 0 to go on, or a
// negative errno to stop the walk; that value is then the result of nl_request.
using NlCallback = int (*)(const nlmsghdr* msg, void* ctx);

// Opens a netlink socket of `protocol` (SOCK_CLOEXEC), sends `req` (its nlmsg_seq is filled in),
// and feeds every reply message to `cb` until NLMSG_DONE, an ack, or the end of a single
// (non-multi) reply. Returns 0, the callback's negative value, or -errno (NLMSG_ERROR's error
// included). The socket is always closed before returning.
int nl_request(int protocol, nlmsghdr* req, NlCallback cb, void* ctx);

// nl_request for a big dump (hundreds of datagrams): a second thread receives the datagrams into a
// small ring while the calling thread feeds them to `cb`, so the kernel fills the next one while
// this one is parsed. Same contract and results; `cb` runs on the calling thread only. The thread
// is joined and the socket closed before returning, on every path. Where the two threads could not
// run side by side (one CPU allowed, no thread to be had, or the parser keeps waking on the
// receiver's CPU because another task holds the other), the calling thread reads (the rest) alone.
int nl_request_pipelined(int protocol, nlmsghdr* req, NlCallback cb, void* ctx);

// Appends an attribute to `msg` (which has room for `capacity` bytes); -EMSGSIZE when it does not
// fit.
int nl_add_attr(nlmsghdr* msg, size_t capacity, unsigned short type, const void* data, size_t len);

}  // namespace safebind

// --- the readers built on it -------------------------------------------------------------------
#include <stdint.h>

#include <string>
#include <vector>

namespace safebind {

// Named kernel constants for the binding's `constants` (read-only tables, no state).
struct NlConstant {
  const char* name;
  uint32_t value;
};
const NlConstant* nl_address_flags(size_t* count);  // IFA_F_*, named as ip(8) prints them
const NlConstant* nl_link_flags(size_t* count);     // IFF_*
const NlConstant* nl_scopes(size_t* count);         // RT_SCOPE_*
const NlConstant* nl_tcp_states(size_t* count);     // TCP_* as sock_diag numbers them
const NlConstant* nl_route_types(size_t* count);    // RTN_*

// addresses.cc: RTM_GETADDR (both families) joined with RTM_GETLINK.
struct NlAddress {
  int ifindex = 0;
  std::string ifname;
  int family = 0;
  std::string
      address;  // IFA_LOCAL when present (the local end of a point-to-point), else IFA_ADDRESS
  int prefix_len = 0;
  int scope = 0;
  uint32_t ifa_flags = 0;  // IFA_FLAGS (32 bits) when present, else ifa_flags
  uint32_t link_flags = 0;
  int oper_state = 0;
  std::string label;  // IFA_LABEL when it differs from the interface name
  bool has_cacheinfo = false;
  uint32_t preferred = 0, valid = 0;
};
int nl_addresses(std::vector<NlAddress>* out);

// sock_diag.cc: NETLINK_SOCK_DIAG dumps filtered in the kernel.
struct NlEndpoint {
  std::string address;  // "" matches any address
  uint16_t port = 0;    // 0 matches any port
};
struct NlSockQuery {
  int protocol = 0;     // IPPROTO_TCP or IPPROTO_UDP
  int family = 0;       // AF_INET, AF_INET6, AF_UNSPEC = both
  uint32_t states = 0;  // 1 << state; 0 = all
  NlEndpoint dst, src;
  // A walk of the whole table (hundreds of datagrams): received on a second thread while the
  // caller's one parses (nl_request_pipelined).
  bool pipelined = false;
};
constexpr int kNlStates = 16;
// counts[state] += 1 for every matching socket. 0 or -errno (-EINVAL for an unparseable address).
int nl_socket_counts(const NlSockQuery& query, uint32_t counts[kNlStates]);
struct NlSockEntry {
  int family = 0;
  int state = 0;
  std::string src, dst;
  uint16_t sport = 0, dport = 0;
  uint32_t inode = 0, uid = 0;
  // INET_DIAG_SKV6ONLY: -1 when the kernel did not send it (IPv4 sockets; TIME_WAIT and connected
  // sockets, which it reports only for LISTEN and CLOSE), else 0 or 1.
  int v6only = -1;
  // SO_BINDTODEVICE: the ifindex the socket is bound to (inet_diag_sockid.idiag_if), 0 for none.
  int bound_if = 0;
};
int nl_socket_list(const NlSockQuery& query, size_t limit, std::vector<NlSockEntry>* out);
// The identity and timer of each matching socket, without its addresses (forecast readings).
struct NlSockIdentity {
  uint64_t cookie = 0;
  uint8_t state = 0;
  uint8_t timer = 0;
  uint32_t expires_ms = 0;
};
int nl_socket_identities(const NlSockQuery& query, std::vector<NlSockIdentity>* out);
// One matching socket as the dump gives it, valid only during the visit: addresses in network
// order (4 words; an IPv4 address in the first).
struct NlSockSeen {
  int family = 0;
  int state = 0;
  const uint32_t* src = nullptr;
  const uint32_t* dst = nullptr;
  uint16_t sport = 0, dport = 0;
  int timer = 0;            // idiag_timer: 3 for a TIME_WAIT socket's timer
  uint32_t expires_ms = 0;  // idiag_expires: ms left on that timer
};
using NlSockVisit = void (*)(const NlSockSeen& socket, void* ctx);
// Calls visit for every matching socket, with no copy and no text: the walk a caller groups itself.
int nl_socket_visit(const NlSockQuery& query, NlSockVisit visit, void* ctx);

// route.cc: RTM_GETROUTE, as `ip route get`.
struct NlRouteQuery {
  int family = 0;
  std::string dst, src;  // src "" = none
  int oif = 0;           // 0 = none
  std::string device;    // an interface name for oif, resolved in the calling thread's namespace
};
struct NlRoute {
  int family = 0;
  int type = 0;
  uint32_t table = 0;
  int oif = 0;
  std::string oif_name, prefsrc, gateway;
};
int nl_route_get(const NlRouteQuery& query, NlRoute* out);

// neighbours.cc: RTM_GETNEIGH dump of both families, as `ip neigh show`.
struct NlNeighbour {
  int family = 0;
  int ifindex = 0;
  std::string ifname;  // "" when the interface went away between the dump and the name lookup
  std::string address;
  std::string lladdr;  // "aa:bb:…", "" when the entry has none (incomplete, failed)
  int state = 0;       // NUD_* bits
  int flags = 0;       // NTF_*
};
int nl_neighbours(std::vector<NlNeighbour>* out);
const NlConstant* nl_neighbour_states(size_t* count);  // NUD_*, named as ip(8) prints them

// address_watch.cc: a NETLINK_ROUTE socket subscribed to address and link changes, polled on a
// libuv loop. `notify` runs on the loop's thread, once per readable wake-up (coalesced).
struct AddressWatch;
using AddressWatchNotify = void (*)(void* ctx);
// Starts watching; *out is owned by the caller until address_watch_stop. 0 or -errno.
int address_watch_start(void* uv_loop, AddressWatchNotify notify, void* ctx, AddressWatch** out);
// Stops the poll and closes the socket; once libuv has closed its handle the watch is freed and
// `closed(arg)` runs (on the loop's thread). The caller must keep the code of `closed` loaded until
// then: at environment teardown that is what an async cleanup hook is for.
void address_watch_stop(AddressWatch* watch, void (*closed)(void* arg), void* arg);

}  // namespace safebind
