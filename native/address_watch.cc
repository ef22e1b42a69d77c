// Address change notifications: a NETLINK_ROUTE socket joined to the IPv4 and IPv6 address groups
// and the link group (a carrier change ends an IPv6 address's tentative state without an address
// message of its own being needed), polled on the caller's libuv loop. rtnetlink(7), netlink(7).
// No N-API here: native/binding/address_watches.cc turns `notify` into a JavaScript call.
#include <errno.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "netlink.h"

namespace safebind {

struct AddressWatch {
  uv_poll_t poll;
  int fd = -1;
  AddressWatchNotify notify = nullptr;
  void* ctx = nullptr;
  void (*closed)(void* arg) = nullptr;
  void* closed_arg = nullptr;
};

namespace {

// Reads every queued message without blocking. The messages themselves do not matter: any of them
// means "read the addresses again", and one callback covers a burst of them. ENOBUFS (the queue
// overflowed and messages were lost) means the same.
void drain(int fd) {
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0) continue;
    int err = errno;
    if (err == EINTR || err == ENOBUFS) continue;
    return;  // EAGAIN: drained
  }
}

void on_readable(uv_poll_t* handle, int status, int /*events*/) {
  auto* watch = static_cast<AddressWatch*>(handle->data);
  // Reading also takes the socket's pending error (ENOBUFS after an overflow), which is reported.
  drain(watch->fd);
  if (status < 0) {
    // An overflowed receive queue makes the socket report POLLERR, on which libuv stops the poll
    // and passes UV_EBADF: without a restart the watch would go deaf after the first burst. Lost
    // messages only mean "read the addresses again", which the notify below asks for anyway.
    uv_poll_start(handle, UV_READABLE, on_readable);
  }
  watch->notify(watch->ctx);
}

void on_closed(uv_handle_t* handle) {
  auto* watch = static_cast<AddressWatch*>(handle->data);
  void (*closed)(void*) = watch->closed;
  void* arg = watch->closed_arg;
  delete watch;
  if (closed) closed(arg);
}

}  // namespace

int address_watch_start(void* loop, AddressWatchNotify notify, void* ctx, AddressWatch** out) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  sockaddr_nl local = {};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  auto* watch = new AddressWatch();
  watch->fd = fd;
  watch->notify = notify;
  watch->ctx = ctx;
  int rc = uv_poll_init(static_cast<uv_loop_t*>(loop), &watch->poll, fd);
  if (rc < 0) {
    close(fd);
    delete watch;
    return rc;  // libuv errors are -errno on Linux
  }
  watch->poll.data = watch;
  rc = uv_poll_start(&watch->poll, UV_READABLE, on_readable);
  if (rc < 0) {
    watch->fd = -1;
    close(fd);
    uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), on_closed);
    return rc;
  }
  *out = watch;
  return 0;
}

void address_watch_stop(AddressWatch* watch, void (*closed)(void* arg), void* arg) {
  watch->closed = closed;
  watch->closed_arg = arg;
  uv_poll_stop(&watch->poll);
  if (watch->fd >= 0) close(watch->fd);
  watch->fd = -1;
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), on_closed);
}

}  // namespace safebind
