// The floor for portUsage(): the same NETLINK_SOCK_DIAG dumps in plain C (one per family, ports in
// the request id, the address in an INET_DIAG_REQ_BYTECODE host condition), counting by state and
// nothing else. sock_diag(7), netlink(7), tcp(7).
//
// Three floors, chosen by the fourth argument:
//   two  (default) one SOCK_DIAG_BY_FAMILY dump per family, AF_INET then AF_INET6: two walks of the
//        kernel's TCP hash tables, as ss(8) does;
//   one  a single TCPDIAG_GETSOCK dump (struct inet_diag_req), which the kernel turns into a v2
//        request with sdiag_family = AF_UNSPEC: one walk returns both families. What the addon
//        does for TCP queries over both families.
//   all  the same single dump with no filter at all (every socket but LISTEN, any address and
//   port):
//        the raw dump a whole-table reading needs, the exporter's floor (IPV4 and PORT ignored).
//
// Every dump asks for every state but LISTEN and BOUND_INACTIVE, as safebind's walks do
// (NO_PEER_STATES in lib/host/socket-query.ts): sockets only bound have no peer, and asking for
// them (Linux 6.5 and later) makes the kernel walk the bind hash too. A fifth argument `bound` asks
// for them as well, to measure that walk.
//
//   sockdiag_floor IPV4 PORT RUNS [two|one|all] [bound]
// prints one JSON line: {"inUse":N,"medianMs":X,"runs":N,"walks":1|2,"bound":0|1}
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct filter {  // the INET_DIAG_REQ_BYTECODE attribute: destination address condition
  struct nlattr attr;
  struct inet_diag_bc_op op;
  struct inet_diag_hostcond cond;
  uint32_t addr;
};

struct request {
  struct nlmsghdr nlh;
  struct inet_diag_req_v2 req;
  struct filter f;
};

struct request_compat {
  struct nlmsghdr nlh;
  struct inet_diag_req req;  // 60 bytes: the attribute starts right after, 4-aligned
  struct filter f;
};

static char buf[64 * 1024];

// TCP_LISTEN is 10, TCP_BOUND_INACTIVE 13 (include/net/tcp_states.h).
static uint32_t states_asked = ~((1u << 10) | (1u << 13));

static void fill_filter(struct filter* f, uint32_t addr) {
  f->attr.nla_type = INET_DIAG_REQ_BYTECODE;
  f->attr.nla_len = NLA_HDRLEN + sizeof(f->op) + sizeof(f->cond) + sizeof(f->addr);
  f->op.code = INET_DIAG_BC_D_COND;
  f->op.yes = sizeof(f->op) + sizeof(f->cond) + sizeof(f->addr);
  f->op.no = f->op.yes + 4;
  f->cond.family = AF_INET;
  f->cond.prefix_len = 32;
  f->cond.port = -1;
  f->addr = addr;
}

// One dump: of `family` (v2), or of both families at once when family is AF_UNSPEC (the legacy
// TCPDIAG_GETSOCK request). Adds to counts[state]. 0, or -1 on error.
static int no_filter = 0;  // "all": the request carries no bytecode and no port

static int dump(int family, uint32_t addr, uint16_t port, unsigned counts[16]) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct request r;
  struct request_compat rc;
  void* msg;
  size_t msg_len;
  if (family == AF_UNSPEC) {
    memset(&rc, 0, sizeof(rc));
    rc.nlh.nlmsg_len = sizeof(rc);
    rc.nlh.nlmsg_type = TCPDIAG_GETSOCK;
    rc.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    rc.nlh.nlmsg_seq = 1;
    rc.req.idiag_states = states_asked;
    rc.req.id.idiag_dport = htons(port);
    fill_filter(&rc.f, addr);
    msg = &rc;
    msg_len = sizeof(rc);
    if (no_filter) {
      rc.req.id.idiag_dport = 0;
      msg_len = offsetof(struct request_compat, f);
      rc.nlh.nlmsg_len = (uint32_t)msg_len;
    }
  } else {
    memset(&r, 0, sizeof(r));
    r.nlh.nlmsg_len = sizeof(r);
    r.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    r.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    r.nlh.nlmsg_seq = 1;
    r.req.sdiag_family = (uint8_t)family;
    r.req.sdiag_protocol = IPPROTO_TCP;
    r.req.idiag_states = states_asked;
    r.req.id.idiag_dport = htons(port);
    fill_filter(&r.f, addr);
    msg = &r;
    msg_len = sizeof(r);
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, msg, msg_len, 0, (struct sockaddr*)&kernel, sizeof(kernel)) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      int err = errno;
      close(fd);
      errno = err;  // for the caller's perror()
      return -1;
    }
    int len = (int)n;  // signed: NLMSG_NEXT must not wrap past a malformed last message
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        close(fd);
        return 0;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr* e = NLMSG_DATA(h);
        int err = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error < 0 ? -e->error : EBADMSG;
        close(fd);
        errno = err;
        return -1;
      }
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg* m = NLMSG_DATA(h);
      if (m->idiag_state < 16) counts[m->idiag_state]++;
    }
  }
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: sockdiag_floor IPV4 PORT RUNS [two|one|all] [bound]\n");
    return 2;
  }
  no_filter = argc > 4 && strcmp(argv[4], "all") == 0;
  int one_walk = no_filter || (argc > 4 && strcmp(argv[4], "one") == 0);
  int bound = argc > 5 && strcmp(argv[5], "bound") == 0;
  if (bound) states_asked = ~(1u << 10);
  uint32_t addr;
  if (inet_pton(AF_INET, argv[1], &addr) != 1) return 2;
  char* end = NULL;
  long port_arg = strtol(argv[2], &end, 10);
  if (*argv[2] == '\0' || *end != '\0' || port_arg < 0 || port_arg > 65535) return 2;
  uint16_t port = (uint16_t)port_arg;
  int runs = atoi(argv[3]);
  if (runs < 1 || runs > 1000) return 2;
  double times[1000];
  unsigned total = 0;
  for (int i = 0; i < runs; i++) {
    unsigned counts[16] = {0};
    double t0 = now_ms();
    int failed =
        one_walk ? dump(AF_UNSPEC, addr, port, counts) < 0
                 : dump(AF_INET, addr, port, counts) < 0 || dump(AF_INET6, addr, port, counts) < 0;
    if (failed) {
      perror("sock_diag");
      return 1;
    }
    times[i] = now_ms() - t0;
    total = 0;
    for (int s = 0; s < 16; s++) total += counts[s];
  }
  qsort(times, (size_t)runs, sizeof(double), cmp);
  printf("{\"inUse\":%u,\"medianMs\":%.3f,\"runs\":%d,\"walks\":%d,\"bound\":%d}\n", total,
         times[runs / 2], runs, one_walk ? 1 : 2, bound);
  return 0;
}
