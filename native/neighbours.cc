// The neighbour table of both families, as `ip neigh show` reads it: one RTM_GETNEIGH dump with
// AF_UNSPEC (ARP entries and IPv6 neighbour-discovery entries). rtnetlink(7), netlink(7).
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "netlink.h"

namespace safebind {
namespace {

struct NeighRequest {
  nlmsghdr header;
  ndmsg body;
};

int on_neigh(const nlmsghdr* msg, void* ctx) {
  if (msg->nlmsg_type != RTM_NEWNEIGH || msg->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return 0;
  const auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(msg));
  if (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6) return 0;
  NlNeighbour n;
  n.family = nd->ndm_family;
  n.ifindex = nd->ndm_ifindex;
  n.state = nd->ndm_state;
  n.flags = nd->ndm_flags;
  const size_t addr_len = nd->ndm_family == AF_INET ? 4 : 16;
  char text[INET6_ADDRSTRLEN];
  int len = static_cast<int>(msg->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
  const auto* first = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(nd) +
                                                      NLMSG_ALIGN(sizeof(ndmsg)));
  for (const rtattr* a = first; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) >= addr_len &&
        inet_ntop(nd->ndm_family, RTA_DATA(a), text, sizeof(text))) {
      n.address = text;
    } else if (a->rta_type == NDA_LLADDR) {
      const auto* bytes = static_cast<const unsigned char*>(RTA_DATA(a));
      size_t count = RTA_PAYLOAD(a);
      for (size_t i = 0; i < count && i < 32; i++) {
        char hex[4];
        snprintf(hex, sizeof(hex), i == 0 ? "%02x" : ":%02x", bytes[i]);
        n.lladdr += hex;
      }
    }
  }
  if (n.address.empty()) return 0;
  auto* out = static_cast<std::vector<NlNeighbour>*>(ctx);
  out->push_back(n);
  return 0;
}

const NlConstant kNeighbourStates[] = {
    {"incomplete", NUD_INCOMPLETE}, {"reachable", NUD_REACHABLE}, {"stale", NUD_STALE},
    {"delay", NUD_DELAY},           {"probe", NUD_PROBE},         {"failed", NUD_FAILED},
    {"noarp", NUD_NOARP},           {"permanent", NUD_PERMANENT},
};

}  // namespace

int nl_neighbours(std::vector<NlNeighbour>* out) {
  NeighRequest req;
  memset(&req, 0, sizeof(req));
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  req.header.nlmsg_type = RTM_GETNEIGH;
  req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.body.ndm_family = AF_UNSPEC;
  out->clear();
  int rc = nl_request(NETLINK_ROUTE, &req.header, on_neigh, out);
  if (rc < 0) return rc;
  for (NlNeighbour& n : *out) {
    char name[IF_NAMESIZE];
    // if_indextoname asks the calling thread's namespace, the one the dump ran in.
    if (n.ifindex > 0 && if_indextoname(static_cast<unsigned>(n.ifindex), name)) n.ifname = name;
  }
  return 0;
}

const NlConstant* nl_neighbour_states(size_t* count) {
  *count = sizeof(kNeighbourStates) / sizeof(kNeighbourStates[0]);
  return kNeighbourStates;
}

}  // namespace safebind
