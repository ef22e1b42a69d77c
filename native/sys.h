// The plain C++ part of the addon: no N-API here. Each function makes one system call (or one
// netlink request/dump) and returns 0 or a value on success, or -errno, with errno saved on the
// line after the call. No policy, no retries: policy lives in TypeScript. Follows socket(7), ip(7),
// ipv6(7), bind(2), listen(2), connect(2), getsockname(2), rtnetlink(7), sock_diag(7), netlink(7).
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

// Options newer than some C libraries' headers (values from linux/in.h and linux/in6.h): the kernel
// answers ENOPROTOOPT where it lacks one, which the TypeScript layer reports as a typed failure.
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

namespace safebind {

// socket2's `syscall!`: the one place a system call's -1 becomes -errno. errno is read inside,
// right after the call returned, before anything else can change it; any other return (0, an fd, a
// length) passes through. Every syscall of socket_ops.cc goes through it; the churn engine should
// too.
inline int syscall_result(int rc) {
  return rc == -1 ? -errno : rc;
}

// A socket address as the binding passes it in and out: family, printable address, port, scope id.
struct SockAddr {
  int family = 0;  // AF_INET or AF_INET6
  std::string address;
  uint16_t port = 0;
  uint32_t scope_id = 0;
};

// Fills storage from addr; returns 0 or -EINVAL when the address does not parse for its family.
int to_sockaddr(const SockAddr& addr, sockaddr_storage* storage, socklen_t* len);
// The reverse; returns 0 or -EAFNOSUPPORT.
int from_sockaddr(const sockaddr_storage& storage, SockAddr* out);

// --- socket_ops.cc: one syscall each -----------------------------------------------------------
int sys_socket(int family, int type);  // always SOCK_CLOEXEC | SOCK_NONBLOCK; fd or -errno
int sys_close(int fd);
int sys_set_int(int fd, int level, int name, int value);
int sys_get_int(int fd, int level, int name, int* value);
int sys_set_linger(int fd, bool on, int seconds);
int sys_get_linger(int fd, bool* on, int* seconds);
int sys_set_device(int fd, const std::string& name);  // "" removes the binding
int sys_get_device(int fd, std::string* name);
int sys_set_local_port_range(int fd, uint16_t lo, uint16_t hi);  // IP_LOCAL_PORT_RANGE
int sys_get_local_port_range(int fd, uint16_t* lo, uint16_t* hi);
int sys_bind(int fd, const SockAddr& addr);
int sys_listen(int fd, int backlog);
int sys_connect(int fd, const SockAddr& addr);  // -EINPROGRESS is a state, returned as is
int sys_socket_error(int fd, int* error);       // SO_ERROR
int sys_getsockname(int fd, SockAddr* out);
int sys_getpeername(int fd, SockAddr* out);
int sys_unshare_net();  // unshare(CLONE_NEWNET) for the calling thread: test support

// Interface names and indexes of the calling thread's network namespace, if_nametoindex(3).
int sys_if_nametoindex(const std::string& name);            // index, or -ENODEV when none
int sys_if_indextoname(uint32_t index, std::string* name);  // 0, or -ENXIO when none
int sys_if_nameindex(std::vector<std::pair<uint32_t, std::string>>* out);  // 0 or -errno

// --- packet.cc: ARP over an AF_PACKET socket (packet(7)), for RFC 5227 probes
// ---------------------
int sys_arp_socket();                   // SOCK_DGRAM, ETH_P_ARP; fd or -errno
int sys_arp_bind(int fd, int ifindex);  // receive only what arrives on that interface
// The bound interface's Ethernet address (getsockname); -EAFNOSUPPORT when it has none of 6 bytes.
int sys_arp_hwaddr(int fd, unsigned char out[6]);
// Sends one ARP payload (no Ethernet header) to ff:ff:ff:ff:ff:ff out of ifindex; bytes or -errno.
int sys_arp_broadcast(int fd, int ifindex, const void* payload, size_t len);
int sys_arp_recv(int fd, void* buffer, size_t len);  // bytes, or -EAGAIN when nothing is queued

}  // namespace safebind
