// Interface addresses through rtnetlink, as `ip addr` reads them: an RTM_GETLINK dump for names,
// IFF_* flags and operational state, then an RTM_GETADDR dump of both families. rtnetlink(7),
// netlink(7), netdevice(7). getifaddrs(3) is not enough: it drops IFA_F_* (tentative, dadfailed…).
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include <map>

#include "netlink.h"

namespace safebind {
namespace {

struct Link {
  std::string name;
  uint32_t flags = 0;
  int oper_state = 0;
};

template <typename Body>
struct DumpRequest {
  nlmsghdr header;
  Body body;
};

int on_link(const nlmsghdr* msg, void* ctx) {
  if (msg->nlmsg_type != RTM_NEWLINK || msg->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return 0;
  auto* links = static_cast<std::map<int, Link>*>(ctx);
  const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(msg));
  Link link;
  link.flags = info->ifi_flags;
  int len = static_cast<int>(IFLA_PAYLOAD(msg));
  for (const rtattr* a = IFLA_RTA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_IFNAME) {
      link.name.assign(static_cast<const char*>(RTA_DATA(a)),
                       strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
    } else if (a->rta_type == IFLA_OPERSTATE && RTA_PAYLOAD(a) >= 1) {
      link.oper_state = *static_cast<const uint8_t*>(RTA_DATA(a));
    }
  }
  (*links)[info->ifi_index] = std::move(link);
  return 0;
}

struct AddrCtx {
  const std::map<int, Link>* links;
  std::vector<NlAddress>* out;
};

int on_addr(const nlmsghdr* msg, void* ctx) {
  if (msg->nlmsg_type != RTM_NEWADDR || msg->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return 0;
  auto* c = static_cast<AddrCtx*>(ctx);
  const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(msg));
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return 0;
  NlAddress out;
  out.ifindex = static_cast<int>(ifa->ifa_index);
  out.family = ifa->ifa_family;
  out.prefix_len = ifa->ifa_prefixlen;
  out.scope = ifa->ifa_scope;
  out.ifa_flags = ifa->ifa_flags;
  const void* local = nullptr;
  const void* address = nullptr;
  // inet_ntop reads 4 or 16 bytes whatever the attribute holds: a shorter one is skipped.
  const size_t addr_len = ifa->ifa_family == AF_INET ? 4 : 16;
  int len = static_cast<int>(IFA_PAYLOAD(msg));
  for (const rtattr* a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
      case IFA_LOCAL:
        if (RTA_PAYLOAD(a) >= addr_len) local = RTA_DATA(a);
        break;
      case IFA_ADDRESS:
        if (RTA_PAYLOAD(a) >= addr_len) address = RTA_DATA(a);
        break;
      case IFA_LABEL:
        out.label.assign(static_cast<const char*>(RTA_DATA(a)),
                         strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
        break;
      case IFA_FLAGS:
        if (RTA_PAYLOAD(a) >= sizeof(uint32_t))
          memcpy(&out.ifa_flags, RTA_DATA(a), sizeof(uint32_t));
        break;
      case IFA_CACHEINFO:
        if (RTA_PAYLOAD(a) >= sizeof(ifa_cacheinfo)) {
          ifa_cacheinfo ci;
          memcpy(&ci, RTA_DATA(a), sizeof(ci));
          out.has_cacheinfo = true;
          out.preferred = ci.ifa_prefered;
          out.valid = ci.ifa_valid;
        }
        break;
      default:
        break;
    }
  }
  // On a point-to-point link IFA_ADDRESS is the peer and IFA_LOCAL our end; elsewhere they agree,
  // and IPv6 usually sends only IFA_ADDRESS.
  const void* mine = local ? local : address;
  if (!mine) return 0;
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(ifa->ifa_family, mine, text, sizeof(text))) return 0;
  out.address = text;
  auto link = c->links->find(out.ifindex);
  if (link != c->links->end()) {
    out.ifname = link->second.name;
    out.link_flags = link->second.flags;
    out.oper_state = link->second.oper_state;
  }
  if (out.label == out.ifname) out.label.clear();
  c->out->push_back(std::move(out));
  return 0;
}

}  // namespace

int nl_addresses(std::vector<NlAddress>* out) {
  std::map<int, Link> links;
  DumpRequest<ifinfomsg> link_req;
  memset(&link_req, 0, sizeof(link_req));
  link_req.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  link_req.header.nlmsg_type = RTM_GETLINK;
  link_req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  link_req.body.ifi_family = AF_UNSPEC;
  int rc = nl_request(NETLINK_ROUTE, &link_req.header, on_link, &links);
  if (rc < 0) return rc;

  DumpRequest<ifaddrmsg> addr_req;
  memset(&addr_req, 0, sizeof(addr_req));
  addr_req.header.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  addr_req.header.nlmsg_type = RTM_GETADDR;
  addr_req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  addr_req.body.ifa_family = AF_UNSPEC;
  AddrCtx ctx = {&links, out};
  return nl_request(NETLINK_ROUTE, &addr_req.header, on_addr, &ctx);
}

}  // namespace safebind

namespace safebind {

namespace {
// IFA_F_SECONDARY and IFA_F_TEMPORARY share a bit: "secondary" for IPv4, "temporary" for IPv6.
const NlConstant kAddressFlags[] = {
    {"secondary", IFA_F_SECONDARY},           {"nodad", IFA_F_NODAD},
    {"optimistic", IFA_F_OPTIMISTIC},         {"dadfailed", IFA_F_DADFAILED},
    {"homeaddress", IFA_F_HOMEADDRESS},       {"deprecated", IFA_F_DEPRECATED},
    {"tentative", IFA_F_TENTATIVE},           {"permanent", IFA_F_PERMANENT},
    {"managetempaddr", IFA_F_MANAGETEMPADDR}, {"noprefixroute", IFA_F_NOPREFIXROUTE},
    {"mcautojoin", IFA_F_MCAUTOJOIN},         {"stable-privacy", IFA_F_STABLE_PRIVACY},
};
const NlConstant kLinkFlags[] = {
    {"up", IFF_UP},
    {"broadcast", IFF_BROADCAST},
    {"loopback", IFF_LOOPBACK},
    {"pointopoint", IFF_POINTOPOINT},
    {"running", IFF_RUNNING},
    {"noarp", IFF_NOARP},
    {"promisc", IFF_PROMISC},
    {"allmulti", IFF_ALLMULTI},
    {"master", IFF_MASTER},
    {"slave", IFF_SLAVE},
    {"multicast", IFF_MULTICAST},
    {"dynamic", IFF_DYNAMIC},
    {"lower-up", 0x10000},  // IFF_LOWER_UP: in linux/if.h, which clashes with net/if.h
    {"dormant", 0x20000},   // IFF_DORMANT
};
const NlConstant kScopes[] = {
    {"universe", RT_SCOPE_UNIVERSE}, {"site", RT_SCOPE_SITE},       {"link", RT_SCOPE_LINK},
    {"host", RT_SCOPE_HOST},         {"nowhere", RT_SCOPE_NOWHERE},
};
}  // namespace

const NlConstant* nl_address_flags(size_t* count) {
  *count = sizeof(kAddressFlags) / sizeof(kAddressFlags[0]);
  return kAddressFlags;
}
const NlConstant* nl_link_flags(size_t* count) {
  *count = sizeof(kLinkFlags) / sizeof(kLinkFlags[0]);
  return kLinkFlags;
}
const NlConstant* nl_scopes(size_t* count) {
  *count = sizeof(kScopes) / sizeof(kScopes[0]);
  return kScopes;
}

}  // namespace safebind
