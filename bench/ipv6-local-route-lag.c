// How long after `ip addr add ADDR/64 dev lo nodad` returns an IPv6 address answers a connect.
// The address is bindable when the kernel acknowledges RTM_NEWADDR, but its local route (table
// local) is inserted afterwards by addrconf's workqueue; until then a SYN to it goes nowhere.
//
// Adds fd00::5/64 nodad on lo over rtnetlink and waits for the ACK, then connects (non-blocking) to
// [fd00::5]:9 again and again until the kernel refuses it (RST: the address answers); deletes the
// address and repeats. Run in a namespace of its own (docs/kernel-facts.md):
//   gcc -O2 -o /tmp/lag bench/ipv6-local-route-lag.c
//   unshare -n sh -c 'ip link set lo up; /tmp/lag 1000'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct in6_addr target;

static void put_attr(struct nlmsghdr *n, int type, const void *data, int len) {
  struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = RTA_LENGTH(len);
  memcpy(RTA_DATA(rta), data, len);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + rta->rta_len;
}

// RTM_NEWADDR (nodad) or RTM_DELADDR of fd00::5/64 on lo; returns 0 or -errno from the ACK.
static int change_address(int nl, int type) {
  _Alignas(struct nlmsghdr) char buf[256] = {0};
  struct nlmsghdr *n = (struct nlmsghdr *)buf;
  struct ifaddrmsg *i = NLMSG_DATA(n);
  n->nlmsg_len = NLMSG_LENGTH(sizeof *i);
  n->nlmsg_type = type;
  n->nlmsg_flags =
      NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
  i->ifa_family = AF_INET6;
  i->ifa_prefixlen = 64;
  i->ifa_index = if_nametoindex("lo");
  unsigned flags = type == RTM_NEWADDR ? IFA_F_NODAD : 0;
  put_attr(n, IFA_LOCAL, &target, sizeof target);
  put_attr(n, IFA_FLAGS, &flags, sizeof flags);
  if (send(nl, buf, n->nlmsg_len, 0) < 0) return -errno;
  char ack[4096];
  if (recv(nl, ack, sizeof ack, 0) < 0) return -errno;
  struct nlmsghdr *h = (struct nlmsghdr *)ack;
  return h->nlmsg_type == NLMSG_ERROR ? ((struct nlmsgerr *)NLMSG_DATA(h))->error : 0;
}

// 1 when a connect to [fd00::5]:9 is refused at once (the address answers), else 0.
static int answers(void) {
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = target};
  int err = connect(s, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    struct pollfd p = {s, POLLOUT, 0};
    socklen_t len = sizeof err;
    err = poll(&p, 1, 0) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 ? err
                                                                                      : EINPROGRESS;
  }
  close(s);
  return err == ECONNREFUSED;
}

static long elapsed_us(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 1000;
  inet_pton(AF_INET6, "fd00::5", &target);
  int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (nl < 0) return perror("netlink"), 1;
  int late = 0;
  long longest = 0;
  for (int i = 0; i < rounds; i++) {
    int rc = change_address(nl, RTM_NEWADDR);
    if (rc) return fprintf(stderr, "RTM_NEWADDR: %s\n", strerror(-rc)), 1;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!answers()) {
      late++;
      while (!answers()) {
        if (elapsed_us(&t0) > 5000000) return fprintf(stderr, "no answer within 5 s\n"), 1;
      }
      long us = elapsed_us(&t0);
      if (us > longest) longest = us;
    }
    change_address(nl, RTM_DELADDR);
  }
  printf("%d adds: %d not answering right after the ACK; longest wait %ld us\n", rounds, late,
         longest);
  return 0;
}
