// Socket table reads through NETLINK_SOCK_DIAG, as ss(8) does them. sock_diag(7), netlink(7),
// tcp(7), udp(7). Ports go in the request's id: the kernel compares them before anything else while
// it walks its hash tables (inet_diag_dump_icsk, udp_dump), so a non-matching socket costs a
// compare and is never formatted. Addresses go in INET_DIAG_REQ_BYTECODE host conditions, whose
// AF_INET form also matches v4-mapped addresses (::ffff:a.b.c.d) of AF_INET6 sockets, which share
// the IPv4 port space.
//
// A TCP query that needs both families makes ONE dump, not two: the legacy TCPDIAG_GETSOCK request
// (struct inet_diag_req) is turned by the kernel (inet_diag_rcv_msg_compat → inet_diag_dump_compat)
// into a v2 request with sdiag_family = AF_UNSPEC, the same states, id (ports) and bytecode. Both
// families' sockets live in the same TCP hash tables, and inet_diag_dump_icsk walks every bucket of
// them once per request whatever the family, so two per-family dumps walk everything twice. UDP has
// no such request, and a kernel that refuses it (EINVAL, EOPNOTSUPP) gets the two v2 dumps.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <string.h>

#include "netlink.h"

namespace safebind {
namespace {

struct ParsedAddr {
  bool any = true;
  int family = 0;
  uint32_t words[4] = {0, 0, 0, 0};
};

// "" → any; IPv4; IPv6, with a v4-mapped IPv6 folded to its IPv4 so it matches both socket kinds.
int parse_addr(const std::string& text, ParsedAddr* out) {
  if (text.empty()) return 0;
  out->any = false;
  in6_addr v6;
  if (inet_pton(AF_INET, text.c_str(), out->words) == 1) {
    out->family = AF_INET;
    return 0;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return -EINVAL;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    out->family = AF_INET;
    memcpy(out->words, &v6.s6_addr[12], 4);
    return 0;
  }
  out->family = AF_INET6;
  memcpy(out->words, &v6, 16);
  return 0;
}

struct Request {
  nlmsghdr header;
  inet_diag_req_v2 body;
  char attrs[128];
};

struct CompatRequest {
  nlmsghdr header;
  inet_diag_req body;
  char attrs[128];
};

// One host condition: the op, then inet_diag_hostcond and its address.
size_t put_cond(char* at, uint8_t code, const ParsedAddr& addr, size_t remaining) {
  size_t addr_len = addr.family == AF_INET ? 4 : 16;
  size_t len = sizeof(inet_diag_bc_op) + sizeof(inet_diag_hostcond) + addr_len;
  inet_diag_bc_op op = {};
  op.code = code;
  op.yes = static_cast<uint8_t>(len);
  // Failing any condition jumps past the end: the kernel then rejects the socket.
  op.no = static_cast<uint16_t>(remaining + 4);
  inet_diag_hostcond cond = {};
  cond.family = static_cast<uint8_t>(addr.family);
  cond.prefix_len = static_cast<uint8_t>(addr_len * 8);
  cond.port = -1;
  memcpy(at, &op, sizeof(op));
  memcpy(at + sizeof(op), &cond, sizeof(cond));
  memcpy(at + sizeof(op) + sizeof(cond), addr.words, addr_len);
  return len;
}

size_t cond_len(const ParsedAddr& addr) {
  if (addr.any) return 0;
  return sizeof(inet_diag_bc_op) + sizeof(inet_diag_hostcond) + (addr.family == AF_INET ? 4 : 16);
}

// The filter both request kinds carry: ports in the id, addresses as INET_DIAG_REQ_BYTECODE.
struct Filter {
  ParsedAddr dst, src;
  uint32_t states;
  uint16_t sport, dport;
  bool pipelined;
};

// A dump's request: a big one's datagrams are received on a second thread while parsed.
int request(const Filter& f, nlmsghdr* req, NlCallback cb, void* ctx) {
  return f.pipelined ? nl_request_pipelined(NETLINK_SOCK_DIAG, req, cb, ctx)
                     : nl_request(NETLINK_SOCK_DIAG, req, cb, ctx);
}

void fill_id(const Filter& f, inet_diag_sockid* id) {
  id->idiag_sport = htons(f.sport);
  id->idiag_dport = htons(f.dport);
  id->idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

int add_bytecode(const Filter& f, nlmsghdr* header, size_t capacity) {
  size_t bc_len = cond_len(f.dst) + cond_len(f.src);
  if (bc_len == 0) return 0;
  char bc[64];
  size_t at = 0;
  if (!f.dst.any) at += put_cond(bc + at, INET_DIAG_BC_D_COND, f.dst, bc_len - at);
  if (!f.src.any) at += put_cond(bc + at, INET_DIAG_BC_S_COND, f.src, bc_len - at);
  return nl_add_attr(header, capacity, INET_DIAG_REQ_BYTECODE, bc, at);
}

int dump_family(const Filter& f, int protocol, int family, NlCallback cb, void* ctx) {
  Request req;
  memset(&req, 0, sizeof(req));
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_req_v2));
  req.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.body.sdiag_family = static_cast<uint8_t>(family);
  req.body.sdiag_protocol = static_cast<uint8_t>(protocol);
  req.body.idiag_states = f.states;
  fill_id(f, &req.body.id);
  int rc = add_bytecode(f, &req.header, sizeof(req));
  if (rc < 0) return rc;
  return request(f, &req.header, cb, ctx);
}

// Counts the messages it passes on, so a refused request is told apart from a failed walk.
struct Relay {
  NlCallback cb;
  void* ctx;
  size_t seen;
};

int relay(const nlmsghdr* msg, void* ctx) {
  auto* r = static_cast<Relay*>(ctx);
  r->seen++;
  return r->cb(msg, r->ctx);
}

// Both TCP families in one walk. The kernel ignores idiag_family of a dump request (it uses
// AF_UNSPEC); it is set anyway for readers of a packet capture.
int dump_tcp_both(const Filter& f, Relay* relay_ctx) {
  CompatRequest req;
  memset(&req, 0, sizeof(req));
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_req));
  req.header.nlmsg_type = TCPDIAG_GETSOCK;
  req.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.body.idiag_family = AF_UNSPEC;
  req.body.idiag_states = f.states;
  fill_id(f, &req.body.id);
  int rc = add_bytecode(f, &req.header, sizeof(req));
  if (rc < 0) return rc;
  return request(f, &req.header, relay, relay_ctx);
}

const inet_diag_msg* diag_msg(const nlmsghdr* msg) {
  // A TCPDIAG_GETSOCK dump answers with its own type; the message is the same inet_diag_msg.
  if ((msg->nlmsg_type != SOCK_DIAG_BY_FAMILY && msg->nlmsg_type != TCPDIAG_GETSOCK) ||
      msg->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
    return nullptr;
  return static_cast<const inet_diag_msg*>(NLMSG_DATA(msg));
}

// The kernel checks the id's ports in its walks of the established and listening hashes but not in
// its walk of the bind hash (sockets only bound, BOUND_INACTIVE, Linux 6.5+), where it applies the
// bytecode alone: a request for port P also answered every socket only bound, whatever its port.
// The ports are checked again here, so every dump answers only what it was asked.
struct PortCheck {
  uint16_t sport, dport;
  NlCallback cb;
  void* ctx;
};

int port_checked(const nlmsghdr* msg, void* ctx) {
  auto* p = static_cast<PortCheck*>(ctx);
  const inet_diag_msg* r = diag_msg(msg);
  if (r && ((p->sport != 0 && ntohs(r->id.idiag_sport) != p->sport) ||
            (p->dport != 0 && ntohs(r->id.idiag_dport) != p->dport)))
    return 0;
  return p->cb(msg, p->ctx);
}

// Runs the dumps the query needs (one where the kernel allows it), calling cb for each matching
// socket message.
int dump(const NlSockQuery& q, NlCallback cb, void* ctx) {
  if (q.protocol != IPPROTO_TCP && q.protocol != IPPROTO_UDP) return -EPROTONOSUPPORT;
  if (q.family != AF_UNSPEC && q.family != AF_INET && q.family != AF_INET6) return -EAFNOSUPPORT;
  Filter f;
  int rc = parse_addr(q.dst.address, &f.dst);
  if (rc < 0) return rc;
  rc = parse_addr(q.src.address, &f.src);
  if (rc < 0) return rc;
  f.states = q.states ? q.states : ~0u;
  f.sport = q.src.port;
  f.dport = q.dst.port;
  f.pipelined = q.pipelined;
  PortCheck check = {f.sport, f.dport, cb, ctx};
  if (f.sport != 0 || f.dport != 0) {
    cb = port_checked;
    ctx = &check;
  }

  const ParsedAddr& dst = f.dst;
  const ParsedAddr& src = f.src;
  bool any_v6 = (!dst.any && dst.family == AF_INET6) || (!src.any && src.family == AF_INET6);
  bool any_v4 = (!dst.any && dst.family == AF_INET) || (!src.any && src.family == AF_INET);
  // An IPv4 address also lives in AF_INET6 sockets (v4-mapped); an IPv6 one only there.
  bool want_v4 = !any_v6 && (q.family == AF_UNSPEC || q.family == AF_INET);
  bool want_v6 = q.family == AF_UNSPEC || q.family == AF_INET6 || (q.family == AF_INET && any_v4);
  if (any_v6 && q.family == AF_INET) want_v6 = false;

  if (q.protocol == IPPROTO_TCP && want_v4 && want_v6) {
    Relay r = {cb, ctx, 0};
    rc = dump_tcp_both(f, &r);
    // Refused before any answer: fall back. Failed midway: the caller's results are partial.
    if ((rc != -EINVAL && rc != -EOPNOTSUPP) || r.seen > 0) return rc;
  }
  if (want_v4) {
    rc = dump_family(f, q.protocol, AF_INET, cb, ctx);
    if (rc < 0) return rc;
  }
  if (want_v6) {
    rc = dump_family(f, q.protocol, AF_INET6, cb, ctx);
    if (rc < 0) return rc;
  }
  return 0;
}

int count_one(const nlmsghdr* msg, void* ctx) {
  const inet_diag_msg* r = diag_msg(msg);
  if (r && r->idiag_state < kNlStates) static_cast<uint32_t*>(ctx)[r->idiag_state]++;
  return 0;
}

struct ListCtx {
  size_t limit;
  std::vector<NlSockEntry>* out;
};

std::string format_addr(int family, const uint32_t* words) {
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, words, text, sizeof(text))) return std::string();
  return text;
}

int list_one(const nlmsghdr* msg, void* ctx) {
  auto* list = static_cast<ListCtx*>(ctx);
  const inet_diag_msg* r = diag_msg(msg);
  if (!r || list->out->size() >= list->limit) return 0;
  NlSockEntry entry;
  entry.family = r->idiag_family;
  entry.state = r->idiag_state;
  entry.src = format_addr(r->idiag_family, r->id.idiag_src);
  entry.dst = format_addr(r->idiag_family, r->id.idiag_dst);
  entry.sport = ntohs(r->id.idiag_sport);
  entry.dport = ntohs(r->id.idiag_dport);
  entry.inode = r->idiag_inode;
  entry.uid = r->idiag_uid;
  entry.bound_if = static_cast<int>(r->id.idiag_if);
  // The attributes follow the message; the kernel adds INET_DIAG_SKV6ONLY unasked to AF_INET6
  // sockets in LISTEN or CLOSE (inet_diag_msg_attrs_fill).
  int attr_len = static_cast<int>(msg->nlmsg_len - NLMSG_LENGTH(sizeof(*r)));
  for (const rtattr* a = reinterpret_cast<const rtattr*>(r + 1); RTA_OK(a, attr_len);
       a = RTA_NEXT(a, attr_len)) {
    if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
      entry.v6only = *static_cast<const uint8_t*>(RTA_DATA(a));
  }
  list->out->push_back(std::move(entry));
  return 0;
}

int identity_one(const nlmsghdr* msg, void* ctx) {
  const inet_diag_msg* r = diag_msg(msg);
  if (!r) return 0;
  NlSockIdentity id;
  id.cookie = (static_cast<uint64_t>(r->id.idiag_cookie[1]) << 32) | r->id.idiag_cookie[0];
  id.state = r->idiag_state;
  id.timer = r->idiag_timer;
  id.expires_ms = r->idiag_expires;
  static_cast<std::vector<NlSockIdentity>*>(ctx)->push_back(id);
  return 0;
}

}  // namespace

int nl_socket_identities(const NlSockQuery& query, std::vector<NlSockIdentity>* out) {
  return dump(query, identity_one, out);
}

int nl_socket_counts(const NlSockQuery& query, uint32_t counts[kNlStates]) {
  memset(counts, 0, sizeof(uint32_t) * kNlStates);
  return dump(query, count_one, counts);
}

int nl_socket_list(const NlSockQuery& query, size_t limit, std::vector<NlSockEntry>* out) {
  ListCtx ctx = {limit, out};
  return dump(query, list_one, &ctx);
}

namespace {
struct VisitCtx {
  NlSockVisit visit;
  void* ctx;
};

int visit_one(const nlmsghdr* msg, void* ctx) {
  auto* v = static_cast<VisitCtx*>(ctx);
  const inet_diag_msg* r = diag_msg(msg);
  if (!r) return 0;
  NlSockSeen seen;
  seen.family = r->idiag_family;
  seen.state = r->idiag_state;
  seen.src = r->id.idiag_src;
  seen.dst = r->id.idiag_dst;
  seen.sport = ntohs(r->id.idiag_sport);
  seen.dport = ntohs(r->id.idiag_dport);
  seen.timer = r->idiag_timer;
  seen.expires_ms = r->idiag_expires;
  v->visit(seen, v->ctx);
  return 0;
}
}  // namespace

int nl_socket_visit(const NlSockQuery& query, NlSockVisit visit, void* ctx) {
  VisitCtx v = {visit, ctx};
  return dump(query, visit_one, &v);
}

}  // namespace safebind

namespace safebind {

namespace {
// include/net/tcp_states.h; the last two are kernel-internal but appear in sock_diag answers.
const NlConstant kTcpStates[] = {
    {"ESTABLISHED", 1},     {"SYN_SENT", 2},  {"SYN_RECV", 3}, {"FIN_WAIT1", 4},
    {"FIN_WAIT2", 5},       {"TIME_WAIT", 6}, {"CLOSE", 7},    {"CLOSE_WAIT", 8},
    {"LAST_ACK", 9},        {"LISTEN", 10},   {"CLOSING", 11}, {"NEW_SYN_RECV", 12},
    {"BOUND_INACTIVE", 13},
};
}  // namespace

const NlConstant* nl_tcp_states(size_t* count) {
  *count = sizeof(kTcpStates) / sizeof(kTcpStates[0]);
  return kTcpStates;
}

}  // namespace safebind
