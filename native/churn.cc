// The connect-churn engine. socket(7), tcp(7), ip(7), connect(2), accept(2), epoll(7), eventfd(2),
// setns(2), clock_gettime(2), pthread_create(3).
#include "churn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <unordered_set>

namespace safebind {
namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Network namespaces belong to threads: a thread made before the caller moved into another
// namespace (or by another thread) would otherwise connect from the wrong one.
int join_netns(int netns_fd) {
  struct stat want, have;
  if (fstat(netns_fd, &want) < 0) return -errno;
  if (stat("/proc/thread-self/ns/net", &have) < 0) return -errno;
  if (want.st_dev == have.st_dev && want.st_ino == have.st_ino) return 0;
  int rc = setns(netns_fd, CLONE_NEWNET);
  return rc < 0 ? -errno : 0;
}

struct Endpoint {
  sockaddr_storage storage;
  socklen_t len = 0;
};

}  // namespace

uint32_t latency_bucket(uint64_t ns) {
  if (ns < 2 * kLatencySub) return static_cast<uint32_t>(ns);
  int msb = 63 - __builtin_clzll(ns);
  int shift = msb - 7;  // ns >> shift lies in [128, 255]
  uint32_t index = static_cast<uint32_t>(2 * kLatencySub + (shift - 1) * kLatencySub +
                                         ((ns >> shift) - kLatencySub));
  return index < kLatencyBuckets ? index : kLatencyBuckets - 1;
}

uint64_t latency_bucket_mid(uint32_t index) {
  if (index < 2 * kLatencySub) return index;
  uint32_t shift = (index - 2 * kLatencySub) / kLatencySub + 1;
  uint64_t sub = (index - 2 * kLatencySub) % kLatencySub + kLatencySub;
  return (sub << shift) + (1ull << (shift - 1));
}

int churn_open_netns() {
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

// --- ChurnRun ------------------------------------------------------------------------------------

ChurnRun::~ChurnRun() {
  cancel();
  join();
  if (netns_fd_ >= 0) close(netns_fd_);
}

int ChurnRun::start(const ChurnConfig& config, int netns_fd, double* progress,
                    std::function<void()> on_done) {
  config_ = config;
  netns_fd_ = netns_fd;
  progress_ = progress;
  on_done_ = std::move(on_done);
  int rc = pthread_create(&thread_, nullptr, &ChurnRun::thread_main, this);
  if (rc != 0) return -rc;
  started_ = true;
  return 0;
}

void ChurnRun::join() {
  if (!started_) return;
  pthread_join(thread_, nullptr);
  started_ = false;
}

void* ChurnRun::thread_main(void* self) {
  auto* run = static_cast<ChurnRun*>(self);
  run->run();
  double one = 1;
  __atomic_store(&run->progress_[kProgressDone], &one, __ATOMIC_RELEASE);
  run->on_done_();
  return nullptr;
}

void ChurnRun::run() {
  ChurnResult& r = result_;
  const ChurnConfig& c = config_;
  r.latency.assign(kLatencyBuckets, 0);

  int rc = join_netns(netns_fd_);
  if (rc < 0) {
    r.setup_error = rc;
    r.setup_syscall = "setns";
    return;
  }
  Endpoint target;
  rc = to_sockaddr(c.target, &target.storage, &target.len);
  if (rc < 0) {
    r.setup_error = rc;
    r.setup_syscall = "connect";
    return;
  }
  std::vector<Endpoint> sources(c.sources.size());
  for (size_t i = 0; i < sources.size(); i++) {
    rc = to_sockaddr(c.sources[i], &sources[i].storage, &sources[i].len);
    if (rc < 0) {
      r.setup_error = rc;
      r.setup_syscall = "bind";
      return;
    }
  }

  const uint64_t start = now_ns();
  const uint64_t deadline = c.duration_ns ? start + c.duration_ns : UINT64_MAX;
  const bool blocking = c.concurrency <= 1;
  const int family = c.target.family;

  auto publish = [&](uint64_t now) {
    double v[4] = {static_cast<double>(r.attempts), static_cast<double>(r.connects),
                   static_cast<double>(r.errors), static_cast<double>(now - start)};
    for (int i = 0; i < 4; i++) __atomic_store(&progress_[i], &v[i], __ATOMIC_RELAXED);
  };
  auto record_latency = [&](uint64_t ns) {
    r.latency[latency_bucket(ns)]++;
    if (ns > r.latency_max_ns) r.latency_max_ns = ns;
    if (r.latency_min_ns == 0 || ns < r.latency_min_ns) r.latency_min_ns = ns;
    r.connects++;
  };
  auto record_failure = [&](int fd, int error, const char* syscall, uint64_t attempt,
                            uint64_t now) {
    r.errors++;
    r.errno_counts[error < kMaxErrno ? error : 0]++;
    if (r.first_failure.present) return;
    ChurnFailure& f = r.first_failure;
    f.present = true;
    f.error = error;
    f.syscall = syscall;
    f.attempt = attempt;
    f.at_ns = now - start;
    f.remote = c.target;
    if (fd < 0 || sys_getsockname(fd, &f.local) < 0) f.local = SockAddr{family, "", 0, 0};
  };
  auto stop_filling = [&](uint64_t now) {
    return cancel_.load(std::memory_order_relaxed) || (c.count && r.attempts >= c.count) ||
           now >= deadline || (c.stop_on_error && r.errors > 0);
  };

  // Opens and prepares one socket; on failure closes it, records, and returns -1.
  auto open_socket = [&](uint64_t attempt) -> int {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0) {
      int e = errno;
      record_failure(-1, e, "socket", attempt, now_ns());
      return -1;
    }
    const char* failed = nullptr;
    int e = 0;
    if (c.linger0) {
      linger lg{1, 0};
      if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
        e = errno;
        failed = "setsockopt";
      }
    }
    if (!failed && blocking && c.timeout_ns) {
      timeval tv{static_cast<time_t>(c.timeout_ns / 1000000000ull),
                 static_cast<suseconds_t>((c.timeout_ns % 1000000000ull) / 1000)};
      if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
        e = errno;
        failed = "setsockopt";
      }
    }
    if (!failed && c.port_hi) {
      uint32_t range = static_cast<uint32_t>(c.port_lo) | (static_cast<uint32_t>(c.port_hi) << 16);
      if (setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) < 0) {
        e = errno;
        failed = "setsockopt";
      }
    }
    if (!failed && !sources.empty()) {
      const Endpoint& src = sources[(attempt - 1) % sources.size()];
      int one = 1;
      if (c.bind_no_port &&
          setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0) {
        e = errno;
        failed = "setsockopt";
      } else if (bind(fd, reinterpret_cast<const sockaddr*>(&src.storage), src.len) < 0) {
        e = errno;
        failed = "bind";
      }
    }
    if (failed) {
      record_failure(fd, e, failed, attempt, now_ns());
      close(fd);
      return -1;
    }
    return fd;
  };

  if (blocking) {
    // The same three calls as a plain C loop (socket, connect, close), plus two vDSO clock reads.
    uint64_t now = start;
    while (!stop_filling(now)) {
      uint64_t attempt = ++r.attempts;
      int fd = open_socket(attempt);
      if (fd < 0) {
        now = now_ns();
        publish(now);
        continue;
      }
      uint64_t t0 = now_ns();
      int crc = connect(fd, reinterpret_cast<const sockaddr*>(&target.storage), target.len);
      int e = crc < 0 ? errno : 0;
      now = now_ns();
      if (crc < 0) {
        // A blocking connect that hits SO_SNDTIMEO returns EINPROGRESS: that is a timeout.
        record_failure(fd, e == EINPROGRESS ? ETIMEDOUT : e, "connect", attempt, now);
      } else {
        record_latency(now - t0);
      }
      close(fd);
      publish(now);
    }
    r.cancelled = cancel_.load(std::memory_order_relaxed);
    r.elapsed_ns = now_ns() - start;
    publish(start + r.elapsed_ns);
    return;
  }

  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    r.setup_error = -errno;
    r.setup_syscall = "epoll_create1";
    return;
  }
  struct Slot {
    int fd = -1;
    uint64_t t0 = 0;
    uint64_t attempt = 0;
  };
  std::vector<Slot> slots(c.concurrency);
  std::vector<uint32_t> free_slots;
  for (uint32_t i = c.concurrency; i > 0; i--) free_slots.push_back(i - 1);
  std::vector<epoll_event> events(c.concurrency);
  uint32_t active = 0;
  auto finish = [&](uint32_t i, int error, uint64_t now) {
    Slot& s = slots[i];
    if (error == 0) {
      record_latency(now - s.t0);
    } else {
      record_failure(s.fd, error, "connect", s.attempt, now);
    }
    close(s.fd);  // also leaves the epoll set: the descriptor is not shared
    s.fd = -1;
    free_slots.push_back(i);
    active--;
  };

  uint64_t now = start;
  for (;;) {
    while (!free_slots.empty() && !stop_filling(now)) {
      uint64_t attempt = ++r.attempts;
      int fd = open_socket(attempt);
      now = now_ns();
      if (fd < 0) continue;
      int crc = connect(fd, reinterpret_cast<const sockaddr*>(&target.storage), target.len);
      int e = crc < 0 ? errno : 0;
      if (crc == 0) {
        uint64_t t1 = now_ns();
        record_latency(t1 - now);
        close(fd);
        continue;
      }
      if (e != EINPROGRESS) {
        record_failure(fd, e, "connect", attempt, now_ns());
        close(fd);
        continue;
      }
      uint32_t i = free_slots.back();
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u32 = i;
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        e = errno;
        record_failure(fd, e, "epoll_ctl", attempt, now_ns());
        close(fd);
        continue;
      }
      free_slots.pop_back();
      slots[i] = Slot{fd, now, attempt};
      active++;
    }
    publish(now);
    if (active == 0) break;
    if (cancel_.load(std::memory_order_relaxed)) {
      // Abandoned connects are neither successes nor failures.
      for (uint32_t i = 0; i < slots.size(); i++) {
        if (slots[i].fd < 0) continue;
        close(slots[i].fd);
        slots[i].fd = -1;
        r.attempts--;
      }
      active = 0;
      break;
    }
    int wait_ms = 100;  // bounds how late a cancel is seen
    if (c.timeout_ns && c.timeout_ns / 1000000 < static_cast<uint64_t>(wait_ms))
      wait_ms = static_cast<int>(c.timeout_ns / 1000000) + 1;
    int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), wait_ms);
    int wait_errno = n < 0 ? errno : 0;
    now = now_ns();
    if (n < 0 && wait_errno != EINTR) {
      r.setup_error = -wait_errno;
      r.setup_syscall = "epoll_wait";
      break;
    }
    for (int k = 0; k < n; k++) {
      uint32_t i = events[k].data.u32;
      int error = 0;
      socklen_t len = sizeof(error);
      if (getsockopt(slots[i].fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) error = errno;
      finish(i, error, now);
    }
    if (c.timeout_ns) {
      for (uint32_t i = 0; i < slots.size(); i++) {
        if (slots[i].fd >= 0 && now - slots[i].t0 >= c.timeout_ns) finish(i, ETIMEDOUT, now);
      }
    }
  }
  for (Slot& s : slots) {
    if (s.fd >= 0) close(s.fd);
  }
  close(epfd);
  r.cancelled = cancel_.load(std::memory_order_relaxed);
  r.elapsed_ns = now_ns() - start;
  publish(start + r.elapsed_ns);
}

// --- ChurnListener -------------------------------------------------------------------------------

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
