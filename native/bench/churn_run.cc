// The connect-churn loop: socket, options, connect, close, on a thread of its own. The stop rule,
// the recording and the socket preparation are small functions of their own; the loop bodies only
// sequence the syscalls. socket(7), tcp(7), ip(7), connect(2), epoll(7), setns(2),
// clock_gettime(2), pthread_create(3).
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "churn.h"

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

// Everything that can fail before the first connect: the namespace, the addresses. false, with
// the setup error recorded, when one of them fails.
bool ChurnRun::prepare() {
  ChurnResult& r = result_;
  r.latency.assign(kLatencyBuckets, 0);
  int rc = join_netns(netns_fd_);
  if (rc < 0) return setup_failed(rc, "setns");
  rc = to_sockaddr(config_.target, &target_.storage, &target_.len);
  if (rc < 0) return setup_failed(rc, "connect");
  sources_.assign(config_.sources.size(), Endpoint{});
  for (size_t i = 0; i < sources_.size(); i++) {
    rc = to_sockaddr(config_.sources[i], &sources_[i].storage, &sources_[i].len);
    if (rc < 0) return setup_failed(rc, "bind");
  }
  return true;
}

bool ChurnRun::setup_failed(int rc, const char* syscall) {
  result_.setup_error = rc;
  result_.setup_syscall = syscall;
  return false;
}

// The stop rule, in one place: cancelled, count reached, deadline passed, or the first failure
// when the caller asked to stop on it.
bool ChurnRun::should_stop(uint64_t now) const {
  const ChurnConfig& c = config_;
  return cancel_.load(std::memory_order_relaxed) || (c.count && result_.attempts >= c.count) ||
         now >= deadline_ || (c.stop_on_error && result_.errors > 0);
}

void ChurnRun::publish(uint64_t now) {
  const ChurnResult& r = result_;
  double v[4] = {static_cast<double>(r.attempts), static_cast<double>(r.connects),
                 static_cast<double>(r.errors), static_cast<double>(now - start_)};
  for (int i = 0; i < 4; i++) __atomic_store(&progress_[i], &v[i], __ATOMIC_RELAXED);
}

void ChurnRun::record_connect(uint64_t ns) {
  ChurnResult& r = result_;
  r.latency[latency_bucket(ns)]++;
  if (ns > r.latency_max_ns) r.latency_max_ns = ns;
  if (r.latency_min_ns == 0 || ns < r.latency_min_ns) r.latency_min_ns = ns;
  r.connects++;
}

void ChurnRun::record_failure(int fd, int error, const char* syscall, uint64_t attempt,
                              uint64_t now) {
  ChurnResult& r = result_;
  r.errors++;
  r.errno_counts[error < kMaxErrno ? error : 0]++;
  if (r.first_failure.present) return;
  ChurnFailure& f = r.first_failure;
  f.present = true;
  f.error = error;
  f.syscall = syscall;
  f.attempt = attempt;
  f.at_ns = now - start_;
  f.remote = config_.target;
  if (fd < 0 || sys_getsockname(fd, &f.local) < 0)
    f.local = SockAddr{config_.target.family, "", 0, 0};
}

// The options of one socket, in the order the kernel needs them (all before bind and connect).
// 0, or the failed syscall's name with *error set.
const char* ChurnRun::set_options(int fd, bool blocking, uint64_t attempt, int* error) {
  const ChurnConfig& c = config_;
  if (c.linger0) {
    linger lg{1, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
      return *error = errno, "setsockopt";
  }
  if (blocking && c.timeout_ns) {
    timeval tv{static_cast<time_t>(c.timeout_ns / 1000000000ull),
               static_cast<suseconds_t>((c.timeout_ns % 1000000000ull) / 1000)};
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
      return *error = errno, "setsockopt";
  }
  if (c.port_hi) {
    uint32_t range = static_cast<uint32_t>(c.port_lo) | (static_cast<uint32_t>(c.port_hi) << 16);
    if (setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range)) < 0)
      return *error = errno, "setsockopt";
  }
  if (!sources_.empty()) {
    const Endpoint& src = sources_[(attempt - 1) % sources_.size()];
    int one = 1;
    if (c.bind_no_port &&
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0)
      return *error = errno, "setsockopt";
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src.storage), src.len) < 0)
      return *error = errno, "bind";
  }
  return nullptr;
}

// Opens and prepares one socket; on failure closes it, records, and returns -1.
int ChurnRun::open_socket(uint64_t attempt, bool blocking) {
  int fd =
      socket(config_.target.family, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0) {
    int e = errno;
    record_failure(-1, e, "socket", attempt, now_ns());
    return -1;
  }
  int e = 0;
  const char* failed = set_options(fd, blocking, attempt, &e);
  if (failed) {
    record_failure(fd, e, failed, attempt, now_ns());
    close(fd);
    return -1;
  }
  return fd;
}

void ChurnRun::run() {
  if (!prepare()) return;
  start_ = now_ns();
  deadline_ = config_.duration_ns ? start_ + config_.duration_ns : UINT64_MAX;
  if (config_.concurrency <= 1) {
    run_blocking();
  } else {
    run_multiplexed();
  }
  result_.cancelled = cancel_.load(std::memory_order_relaxed);
  result_.elapsed_ns = now_ns() - start_;
  publish(start_ + result_.elapsed_ns);
}

// Concurrency 1: the same three calls as a plain C loop (socket, connect, close), plus two vDSO
// clock reads.
void ChurnRun::run_blocking() {
  const sockaddr* target = reinterpret_cast<const sockaddr*>(&target_.storage);
  uint64_t now = start_;
  while (!should_stop(now)) {
    uint64_t attempt = ++result_.attempts;
    int fd = open_socket(attempt, true);
    if (fd < 0) {
      now = now_ns();
      publish(now);
      continue;
    }
    uint64_t t0 = now_ns();
    int crc = connect(fd, target, target_.len);
    int e = crc < 0 ? errno : 0;
    now = now_ns();
    if (crc < 0) {
      // A blocking connect that hits SO_SNDTIMEO returns EINPROGRESS: that is a timeout.
      record_failure(fd, e == EINPROGRESS ? ETIMEDOUT : e, "connect", attempt, now);
    } else {
      record_connect(now - t0);
    }
    close(fd);
    publish(now);
  }
}

// How long one epoll_wait may block: it bounds how late a cancel or a connect timeout is seen.
int ChurnRun::wait_ms() const {
  int ms = 100;
  if (config_.timeout_ns && config_.timeout_ns / 1000000 < static_cast<uint64_t>(ms))
    ms = static_cast<int>(config_.timeout_ns / 1000000) + 1;
  return ms;
}

// Concurrency above 1: non-blocking connects, each holding a slot until epoll says it is done.
void ChurnRun::run_multiplexed() {
  ChurnResult& r = result_;
  const ChurnConfig& c = config_;
  const sockaddr* target = reinterpret_cast<const sockaddr*>(&target_.storage);
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    setup_failed(-errno, "epoll_create1");
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
      record_connect(now - s.t0);
    } else {
      record_failure(s.fd, error, "connect", s.attempt, now);
    }
    close(s.fd);  // also leaves the epoll set: the descriptor is not shared
    s.fd = -1;
    free_slots.push_back(i);
    active--;
  };

  uint64_t now = start_;
  for (;;) {
    while (!free_slots.empty() && !should_stop(now)) {
      uint64_t attempt = ++r.attempts;
      int fd = open_socket(attempt, false);
      now = now_ns();
      if (fd < 0) continue;
      int crc = connect(fd, target, target_.len);
      int e = crc < 0 ? errno : 0;
      if (crc == 0) {
        record_connect(now_ns() - now);
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
      for (Slot& s : slots) {
        if (s.fd < 0) continue;
        close(s.fd);
        s.fd = -1;
        r.attempts--;
      }
      break;
    }
    int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), wait_ms());
    int wait_errno = n < 0 ? errno : 0;
    now = now_ns();
    if (n < 0 && wait_errno != EINTR) {
      setup_failed(-wait_errno, "epoll_wait");
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
}

}  // namespace safebind
