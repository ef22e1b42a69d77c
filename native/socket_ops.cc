// One system call per function, its -1 turned into -errno by syscall_result (sys.h). socket(7),
// ip(7), ipv6(7), bind(2), listen(2), connect(2), getsockname(2), getpeername(2), close(2),
// unshare(2), if_nametoindex(3), if_nameindex(3).
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "sys.h"

namespace safebind {

int to_sockaddr(const SockAddr& addr, sockaddr_storage* storage, socklen_t* len) {
  memset(storage, 0, sizeof(*storage));
  if (addr.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(addr.port);
    if (inet_pton(AF_INET, addr.address.c_str(), &sin->sin_addr) != 1) return -EINVAL;
    *len = sizeof(sockaddr_in);
    return 0;
  }
  if (addr.family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(addr.port);
    sin6->sin6_scope_id = addr.scope_id;
    if (inet_pton(AF_INET6, addr.address.c_str(), &sin6->sin6_addr) != 1) return -EINVAL;
    *len = sizeof(sockaddr_in6);
    return 0;
  }
  return -EAFNOSUPPORT;
}

int from_sockaddr(const sockaddr_storage& storage, SockAddr* out) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (storage.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
    out->family = AF_INET;
    out->port = ntohs(sin->sin_port);
    out->scope_id = 0;
  } else if (storage.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
    out->family = AF_INET6;
    out->port = ntohs(sin6->sin6_port);
    out->scope_id = sin6->sin6_scope_id;
  } else {
    return -EAFNOSUPPORT;
  }
  out->address = text;
  return 0;
}

int sys_socket(int family, int type) {
  return syscall_result(socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
}

int sys_close(int fd) {
  return syscall_result(close(fd));
}

int sys_set_int(int fd, int level, int name, int value) {
  return syscall_result(setsockopt(fd, level, name, &value, sizeof(value)));
}

int sys_get_int(int fd, int level, int name, int* value) {
  socklen_t len = sizeof(*value);
  *value = 0;
  return syscall_result(getsockopt(fd, level, name, value, &len));
}

int sys_set_linger(int fd, bool on, int seconds) {
  linger value{on ? 1 : 0, seconds};
  return syscall_result(setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, sizeof(value)));
}

int sys_get_linger(int fd, bool* on, int* seconds) {
  linger value{0, 0};
  socklen_t len = sizeof(value);
  int rc = syscall_result(getsockopt(fd, SOL_SOCKET, SO_LINGER, &value, &len));
  if (rc < 0) return rc;
  *on = value.l_onoff != 0;
  *seconds = value.l_linger;
  return 0;
}

int sys_set_device(int fd, const std::string& name) {
  // An empty name with length 0 removes the binding, as socket(7) describes. The kernel cuts a
  // longer name to IFNAMSIZ - 1 bytes and would bind whichever interface has that prefix.
  if (name.size() >= IFNAMSIZ) return -ENODEV;
  return syscall_result(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), name.size()));
}

int sys_get_device(int fd, std::string* name) {
  char buf[IFNAMSIZ] = {0};
  socklen_t len = sizeof(buf);
  int rc = syscall_result(getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, &len));
  if (rc < 0) return rc;
  name->assign(buf, strnlen(buf, len));
  return 0;
}

int sys_set_local_port_range(int fd, uint16_t lo, uint16_t hi) {
  // The kernel packs the range into one u32: low port in the low 16 bits, high port in the high 16.
  uint32_t value = static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16);
  return syscall_result(setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &value, sizeof(value)));
}

int sys_get_local_port_range(int fd, uint16_t* lo, uint16_t* hi) {
  uint32_t value = 0;
  socklen_t len = sizeof(value);
  int rc = syscall_result(getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &value, &len));
  if (rc < 0) return rc;
  *lo = static_cast<uint16_t>(value & 0xffff);
  *hi = static_cast<uint16_t>(value >> 16);
  return 0;
}

int sys_bind(int fd, const SockAddr& addr) {
  sockaddr_storage storage;
  socklen_t len = 0;
  int prc = to_sockaddr(addr, &storage, &len);
  if (prc < 0) return prc;
  return syscall_result(bind(fd, reinterpret_cast<sockaddr*>(&storage), len));
}

int sys_listen(int fd, int backlog) {
  return syscall_result(listen(fd, backlog));
}

int sys_connect(int fd, const SockAddr& addr) {
  sockaddr_storage storage;
  socklen_t len = 0;
  int prc = to_sockaddr(addr, &storage, &len);
  if (prc < 0) return prc;
  return syscall_result(connect(fd, reinterpret_cast<sockaddr*>(&storage), len));
}

int sys_socket_error(int fd, int* error) {
  return sys_get_int(fd, SOL_SOCKET, SO_ERROR, error);
}

int sys_getsockname(int fd, SockAddr* out) {
  sockaddr_storage storage;
  socklen_t len = sizeof(storage);
  memset(&storage, 0, sizeof(storage));
  int rc = syscall_result(getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len));
  if (rc < 0) return rc;
  return from_sockaddr(storage, out);
}

int sys_getpeername(int fd, SockAddr* out) {
  sockaddr_storage storage;
  socklen_t len = sizeof(storage);
  memset(&storage, 0, sizeof(storage));
  int rc = syscall_result(getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &len));
  if (rc < 0) return rc;
  return from_sockaddr(storage, out);
}

int sys_unshare_net() {
  return syscall_result(unshare(CLONE_NEWNET));
}

int sys_if_nametoindex(const std::string& name) {
  // A name the kernel could never hold is no interface: the same answer as an absent one.
  if (name.empty() || name.size() >= IFNAMSIZ) return -ENODEV;
  unsigned index = if_nametoindex(name.c_str());
  int err = errno;
  if (index == 0) return -(err != 0 ? err : ENODEV);
  return static_cast<int>(index);
}

int sys_if_indextoname(uint32_t index, std::string* name) {
  char buf[IF_NAMESIZE] = {0};
  const char* found = if_indextoname(index, buf);
  int err = errno;
  if (found == nullptr) return -(err != 0 ? err : ENXIO);
  name->assign(buf, strnlen(buf, sizeof(buf)));
  return 0;
}

int sys_if_nameindex(std::vector<std::pair<uint32_t, std::string>>* out) {
  struct if_nameindex* list = if_nameindex();
  int err = errno;
  if (list == nullptr) return -(err != 0 ? err : ENOBUFS);
  for (const struct if_nameindex* it = list; it->if_index != 0 && it->if_name != nullptr; ++it) {
    out->emplace_back(it->if_index, it->if_name);
  }
  if_freenameindex(list);
  return 0;
}

}  // namespace safebind
