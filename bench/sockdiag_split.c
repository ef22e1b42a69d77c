// Does splitting the exporter's walk between two threads pay? The all-but-LISTEN TCPDIAG_GETSOCK
// dump of bench/sockdiag_floor.c's `all` mode, made by one thread, then by two at once, each with a
// source-port range in its INET_DIAG_REQ_BYTECODE (INET_DIAG_BC_S_GE, INET_DIAG_BC_S_LE): ports
// below SPLIT and from SPLIT on, so the two halves are every socket exactly once. Rounds
// interleaved. sock_diag(7), netlink(7), pthread_create(3).
//
//   sockdiag_split RUNS SPLIT
// prints the first round's halves, then the medians and their ratio (two threads / one).
#define _GNU_SOURCE
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

struct job {
  int lo, hi;  // source-port range; lo < 0: no filter
  long count;  // sockets the dump returned
};

// One dump on a netlink socket of its own; counts the socket messages.
static void* dump(void* arg) {
  struct job* j = arg;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return perror("socket"), NULL;
  _Alignas(struct nlmsghdr) char req[256] = {0};
  struct nlmsghdr* h = (struct nlmsghdr*)req;
  struct inet_diag_req* r = NLMSG_DATA(h);
  h->nlmsg_len = NLMSG_LENGTH(sizeof *r);
  h->nlmsg_type = TCPDIAG_GETSOCK;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  r->idiag_family = AF_UNSPEC;
  r->idiag_states = ~(1u << 10);  // all but LISTEN
  r->id.idiag_cookie[0] = r->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  if (j->lo >= 0) {
    // sport >= lo, then sport <= hi: each a pair of ops whose second carries the port in `no`;
    // failing one jumps 4 bytes past the end, which rejects the socket.
    struct nlattr* a = (struct nlattr*)(req + NLMSG_ALIGN(h->nlmsg_len));
    struct inet_diag_bc_op ops[4] = {
        {INET_DIAG_BC_S_GE, 8, 16 + 4},
        {0, 0, (unsigned short)j->lo},
        {INET_DIAG_BC_S_LE, 8, 8 + 4},
        {0, 0, (unsigned short)j->hi},
    };
    memcpy(a + 1, ops, sizeof ops);
    a->nla_type = INET_DIAG_REQ_BYTECODE;
    a->nla_len = NLA_HDRLEN + sizeof ops;
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len);
  }
  if (send(fd, req, h->nlmsg_len, 0) < 0) return perror("send"), close(fd), NULL;
  static __thread char buf[64 * 1024];
  long n = 0;
  for (int done = 0; !done;) {
    ssize_t len = recv(fd, buf, sizeof buf, 0);
    if (len <= 0) break;
    for (struct nlmsghdr* m = (struct nlmsghdr*)buf; NLMSG_OK(m, len); m = NLMSG_NEXT(m, len)) {
      if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) {
        if (m->nlmsg_type == NLMSG_ERROR)
          fprintf(stderr, "dump error %d\n", ((struct nlmsgerr*)NLMSG_DATA(m))->error);
        done = 1;
        break;
      }
      n++;
    }
  }
  close(fd);
  j->count = n;
  return NULL;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 9;
  int split = argc > 2 ? atoi(argv[2]) : 33280;
  if (runs < 1 || runs > 64 || split < 1 || split > 65535) {
    fprintf(stderr, "usage: sockdiag_split RUNS(1-64) SPLIT(1-65535)\n");
    return 2;
  }
  double one[64], two[64];
  long whole = 0, halves = 0;
  for (int i = 0; i < runs; i++) {
    struct job all = {-1, -1, 0};
    double t = now_ms();
    dump(&all);
    one[i] = now_ms() - t;
    struct job low = {0, split - 1, 0}, high = {split, 65535, 0};
    pthread_t other;
    t = now_ms();
    if (pthread_create(&other, NULL, dump, &low) != 0) return perror("pthread_create"), 1;
    dump(&high);
    pthread_join(other, NULL);
    two[i] = now_ms() - t;
    whole = all.count;
    halves = low.count + high.count;
    if (i == 0) printf("halves: %ld + %ld\n", low.count, high.count);
  }
  qsort(one, runs, sizeof(double), by_value);
  qsort(two, runs, sizeof(double), by_value);
  printf(
      "one thread: %ld sockets, median %.1f ms; two threads: %ld sockets, median %.1f ms; ratio "
      "%.2f\n",
      whole, one[runs / 2], halves, two[runs / 2], two[runs / 2] / one[runs / 2]);
  return 0;
}
