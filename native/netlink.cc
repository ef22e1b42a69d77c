// One netlink request and its (possibly multi-part) reply. netlink(7), rtnetlink(7), sock_diag(7).
// A dump arrives as datagrams the kernel sizes to about 32 KiB (at least the largest buffer we
// offered, capped); the receive buffer is larger than that, so no datagram is ever truncated, and
// it is allocated once per request rather than per message.
#include "netlink.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace safebind {
namespace {

constexpr size_t kRecvBuffer = 64 * 1024;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Walks one datagram. Returns 1 when the reply is complete, 0 to read on, or a negative errno.
int walk(const char* buf, size_t size, uint32_t seq, uint32_t pid, NlCallback cb, void* ctx) {
  // Signed: NLMSG_NEXT subtracts the aligned length, which a malformed last message can make larger
  // than what is left; an unsigned count would wrap and walk past the datagram.
  int len = static_cast<int>(size);
  int more = 0;
  const auto* msg = reinterpret_cast<const nlmsghdr*>(buf);
  for (; NLMSG_OK(msg, len); msg = NLMSG_NEXT(msg, len)) {
    // Another request's leftovers cannot reach a fresh socket, but a foreign sender could.
    if (msg->nlmsg_seq != seq || (msg->nlmsg_pid != 0 && msg->nlmsg_pid != pid)) continue;
    if (msg->nlmsg_type == NLMSG_DONE) {
      // A dump that failed part-way says so in NLMSG_DONE's payload (an int, 0 or -errno).
      if (msg->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
        int error = 0;
        memcpy(&error, NLMSG_DATA(msg), sizeof(error));
        if (error < 0) return error;
      }
      return 1;
    }
    if (msg->nlmsg_type == NLMSG_ERROR) {
      if (msg->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return -EBADMSG;
      const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(msg));
      // error 0 is an ACK: the request is complete.
      return err->error == 0 ? 1 : (err->error < 0 ? err->error : -err->error);
    }
    if (msg->nlmsg_flags & NLM_F_MULTI) more = 1;
    int rc = cb(msg, ctx);
    if (rc < 0) return rc;
    if (!(msg->nlmsg_flags & NLM_F_MULTI)) return 1;
  }
  // Bytes left that do not make a whole message: the datagram is malformed, and a reply that
  // silently lost its tail would read as "no such address".
  if (len > 0) return -EBADMSG;
  return more ? 0 : 1;
}

}  // namespace

int nl_add_attr(nlmsghdr* msg, size_t capacity, unsigned short type, const void* data, size_t len) {
  size_t at = NLMSG_ALIGN(msg->nlmsg_len);
  size_t attr_len = NLA_HDRLEN + len;
  if (at + NLA_ALIGN(attr_len) > capacity) return -EMSGSIZE;
  auto* attr = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(msg) + at);
  attr->nla_type = type;
  attr->nla_len = static_cast<unsigned short>(attr_len);
  memcpy(reinterpret_cast<char*>(attr) + NLA_HDRLEN, data, len);
  memset(reinterpret_cast<char*>(attr) + attr_len, 0, NLA_ALIGN(attr_len) - attr_len);
  msg->nlmsg_len = static_cast<uint32_t>(at + NLA_ALIGN(attr_len));
  return 0;
}

int nl_request(int protocol, nlmsghdr* req, NlCallback cb, void* ctx) {
  Fd sock;
  sock.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (sock.fd < 0) return -errno;

  sockaddr_nl local = {};
  local.nl_family = AF_NETLINK;
  if (bind(sock.fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) return -errno;
  socklen_t local_len = sizeof(local);
  if (getsockname(sock.fd, reinterpret_cast<sockaddr*>(&local), &local_len) < 0) return -errno;
  // Fresh socket: the sequence only has to differ from 0 to tell replies from stray multicasts.
  const uint32_t seq = 1;
  req->nlmsg_seq = seq;
  req->nlmsg_pid = 0;

  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(sock.fd, req, req->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                  sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return -errno;

  std::vector<char> buf(kRecvBuffer);
  for (;;) {
    sockaddr_nl from = {};
    socklen_t from_len = sizeof(from);
    ssize_t n = recvfrom(sock.fd, buf.data(), buf.size(), MSG_TRUNC,
                         reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      return -err;
    }
    if (n == 0) return -ECONNRESET;
    // Only the kernel (port id 0) answers a request; another process may send to our port id.
    if (from.nl_pid != 0) continue;
    if (static_cast<size_t>(n) > buf.size()) return -EMSGSIZE;
    int rc = walk(buf.data(), static_cast<size_t>(n), seq, local.nl_pid, cb, ctx);
    if (rc != 0) return rc < 0 ? rc : 0;
  }
}

}  // namespace safebind
