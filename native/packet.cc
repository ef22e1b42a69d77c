// ARP over a packet socket, for RFC 5227 address probes: packet(7), arp(7). One system call each,
// 0 / a value or -errno, as the rest of sys.h; the probe's policy (what to send, how long to wait,
// what an answer means) is in lib/host/arp-probe.ts.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>

#include "sys.h"

namespace safebind {
namespace {

sockaddr_ll link_address(int ifindex) {
  sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ARP);
  sll.sll_ifindex = ifindex;
  return sll;
}

}  // namespace

int sys_arp_socket() {
  return syscall_result(
      socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP)));
}

int sys_arp_bind(int fd, int ifindex) {
  sockaddr_ll sll = link_address(ifindex);
  return syscall_result(bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)));
}

int sys_arp_hwaddr(int fd, unsigned char out[6]) {
  sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  socklen_t len = sizeof(sll);
  // A bound packet socket's name carries its interface's hardware address (packet(7)); sysfs would
  // show the interfaces of the namespace it was mounted in, not the caller's.
  int rc = syscall_result(getsockname(fd, reinterpret_cast<sockaddr*>(&sll), &len));
  if (rc < 0) return rc;
  if (sll.sll_halen != ETH_ALEN) return -EAFNOSUPPORT;
  memcpy(out, sll.sll_addr, ETH_ALEN);
  return 0;
}

int sys_arp_broadcast(int fd, int ifindex, const void* payload, size_t len) {
  sockaddr_ll sll = link_address(ifindex);
  sll.sll_halen = ETH_ALEN;
  memset(sll.sll_addr, 0xff, ETH_ALEN);
  ssize_t n = sendto(fd, payload, len, 0, reinterpret_cast<sockaddr*>(&sll), sizeof(sll));
  return n < 0 ? -errno : static_cast<int>(n);
}

int sys_arp_recv(int fd, void* buffer, size_t len) {
  ssize_t n = recv(fd, buffer, len, 0);
  return n < 0 ? -errno : static_cast<int>(n);
}

}  // namespace safebind
