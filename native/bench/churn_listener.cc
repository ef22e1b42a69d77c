// The churn benchmark's loopback listener: accepts at once and closes each connection after the
// client's FIN or RST. socket(7), tcp(7), accept(2), epoll(7), eventfd(2), pthread_create(3).
#include <errno.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <unordered_set>

#include "churn.h"

namespace safebind {

ChurnListener::~ChurnListener() {
  stop();
}

int ChurnListener::start(const SockAddr& addr, int backlog) {
  sockaddr_storage storage;
  socklen_t len = 0;
  int rc = to_sockaddr(addr, &storage, &len);
  if (rc < 0) return rc;
  int e = 0;
  listen_fd_ = socket(addr.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) {
    e = errno;
    stop();
    return -e;
  }
  int one = 1;
  SockAddr bound;
  if (setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&storage), len) < 0 ||
      listen(listen_fd_, backlog) < 0) {
    e = errno;
    stop();
    return -e;
  }
  rc = sys_getsockname(listen_fd_, &bound);
  if (rc < 0) {
    stop();
    return rc;
  }
  port_ = bound.port;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    e = errno;
    stop();
    return -e;
  }
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) {
    e = errno;
    stop();
    return -e;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) < 0) {
    e = errno;
    stop();
    return -e;
  }
  ev.data.fd = event_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) < 0) {
    e = errno;
    stop();
    return -e;
  }
  rc = pthread_create(&thread_, nullptr, &ChurnListener::thread_main, this);
  if (rc != 0) {
    stop();
    return -rc;
  }
  started_ = true;
  return 0;
}

void ChurnListener::stop() {
  if (started_) {
    uint64_t one = 1;
    while (write(event_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
    pthread_join(thread_, nullptr);
    started_ = false;
  }
  for (int* fd : {&listen_fd_, &epoll_fd_, &event_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void* ChurnListener::thread_main(void* self) {
  static_cast<ChurnListener*>(self)->run();
  return nullptr;
}

void ChurnListener::run() {
  std::unordered_set<int> conns;
  epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epoll_fd_, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < n; k++) {
      int fd = events[k].data.fd;
      if (fd == event_fd_) {
        for (int c : conns) close(c);
        open_.store(0, std::memory_order_relaxed);
        return;
      }
      if (fd == listen_fd_) {
        for (;;) {
          int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (c < 0) {
            // Out of descriptors: back off instead of spinning on a level-triggered listener.
            if (errno == EMFILE || errno == ENFILE) usleep(1000);
            break;
          }
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.fd = c;
          if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c, &ev) < 0) {
            close(c);
          } else {
            conns.insert(c);
          }
          accepted_.fetch_add(1, std::memory_order_relaxed);
        }
        open_.store(conns.size(), std::memory_order_relaxed);
        continue;
      }
      // The client sent FIN or RST: close now, after it, so its side keeps the TIME_WAIT.
      conns.erase(fd);
      close(fd);
      open_.store(conns.size(), std::memory_order_relaxed);
    }
  }
  for (int c : conns) close(c);
}

}  // namespace safebind
