// One route lookup, as `ip route get` makes it: RTM_GETROUTE with RTA_DST (and RTA_SRC, RTA_OIF),
// answered by the FIB. rtnetlink(7), netlink(7). A destination with no route comes back as an
// NLMSG_ERROR (-ENETUNREACH), returned as is.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "netlink.h"

namespace safebind {
namespace {

struct RouteRequest {
  nlmsghdr header;
  rtmsg body;
  char attrs[128];
};

int on_route(const nlmsghdr* msg, void* ctx) {
  if (msg->nlmsg_type != RTM_NEWROUTE || msg->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return 0;
  auto* out = static_cast<NlRoute*>(ctx);
  const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(msg));
  out->family = rt->rtm_family;
  out->type = rt->rtm_type;
  out->table = rt->rtm_table;
  char text[INET6_ADDRSTRLEN];
  // inet_ntop reads 4 or 16 bytes whatever the attribute holds: a shorter one is skipped.
  const size_t addr_len = rt->rtm_family == AF_INET ? 4 : 16;
  int len = static_cast<int>(RTM_PAYLOAD(msg));
  for (const rtattr* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
      case RTA_TABLE:
        if (RTA_PAYLOAD(a) >= sizeof(uint32_t)) memcpy(&out->table, RTA_DATA(a), sizeof(uint32_t));
        break;
      case RTA_OIF:
        if (RTA_PAYLOAD(a) >= sizeof(int)) memcpy(&out->oif, RTA_DATA(a), sizeof(int));
        break;
      case RTA_PREFSRC:
        if (RTA_PAYLOAD(a) >= addr_len &&
            inet_ntop(rt->rtm_family, RTA_DATA(a), text, sizeof(text)))
          out->prefsrc = text;
        break;
      case RTA_GATEWAY:
        if (RTA_PAYLOAD(a) >= addr_len &&
            inet_ntop(rt->rtm_family, RTA_DATA(a), text, sizeof(text)))
          out->gateway = text;
        break;
      default:
        break;
    }
  }
  return 0;
}

}  // namespace

int nl_route_get(const NlRouteQuery& q, NlRoute* out) {
  if (q.family != AF_INET && q.family != AF_INET6) return -EAFNOSUPPORT;
  const size_t addr_len = q.family == AF_INET ? 4 : 16;
  unsigned char dst[16], src[16];
  if (inet_pton(q.family, q.dst.c_str(), dst) != 1) return -EINVAL;
  if (!q.src.empty() && inet_pton(q.family, q.src.c_str(), src) != 1) return -EINVAL;

  int oif = q.oif;
  if (!q.device.empty()) {
    // if_nametoindex would match the first IFNAMSIZ - 1 bytes of a longer name.
    if (q.device.size() >= IF_NAMESIZE) return -ENODEV;
    oif = static_cast<int>(if_nametoindex(q.device.c_str()));
    int err = errno;
    if (oif == 0) return -(err != 0 ? err : ENODEV);
  }

  RouteRequest req;
  memset(&req, 0, sizeof(req));
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.header.nlmsg_type = RTM_GETROUTE;
  req.header.nlmsg_flags = NLM_F_REQUEST;
  req.body.rtm_family = static_cast<unsigned char>(q.family);
  req.body.rtm_dst_len = static_cast<unsigned char>(addr_len * 8);
  // Report the table the route came from, not the per-lookup clone (RTM_F_LOOKUP_TABLE).
  req.body.rtm_flags = RTM_F_LOOKUP_TABLE;
  int rc = nl_add_attr(&req.header, sizeof(req), RTA_DST, dst, addr_len);
  if (rc == 0 && !q.src.empty()) {
    req.body.rtm_src_len = static_cast<unsigned char>(addr_len * 8);
    rc = nl_add_attr(&req.header, sizeof(req), RTA_SRC, src, addr_len);
  }
  if (rc == 0 && oif > 0) rc = nl_add_attr(&req.header, sizeof(req), RTA_OIF, &oif, sizeof(oif));
  if (rc < 0) return rc;

  *out = NlRoute();
  rc = nl_request(NETLINK_ROUTE, &req.header, on_route, out);
  if (rc < 0) return rc;
  if (out->family == 0) return -ENOENT;
  if (out->oif > 0) {
    char name[IF_NAMESIZE];
    // if_indextoname asks the calling thread's namespace, which is the one the lookup ran in.
    if (if_indextoname(static_cast<unsigned>(out->oif), name)) out->oif_name = name;
  }
  return 0;
}

}  // namespace safebind

namespace safebind {

namespace {
const NlConstant kRouteTypes[] = {
    {"unspec", RTN_UNSPEC},
    {"unicast", RTN_UNICAST},
    {"local", RTN_LOCAL},
    {"broadcast", RTN_BROADCAST},
    {"anycast", RTN_ANYCAST},
    {"multicast", RTN_MULTICAST},
    {"blackhole", RTN_BLACKHOLE},
    {"unreachable", RTN_UNREACHABLE},
    {"prohibit", RTN_PROHIBIT},
    {"throw", RTN_THROW},
    {"nat", RTN_NAT},
};
}  // namespace

const NlConstant* nl_route_types(size_t* count) {
  *count = sizeof(kRouteTypes) / sizeof(kRouteTypes[0]);
  return kRouteTypes;
}

}  // namespace safebind
