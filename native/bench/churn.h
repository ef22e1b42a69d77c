// The connect-churn engine: a connect/close loop and a loopback listener, each on a thread of its
// own, in plain C++ (no N-API). Follows socket(7), tcp(7), ip(7), connect(2), accept(2), epoll(7),
// setns(2), clock_gettime(2), pthread_create(3).
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../sys.h"

namespace safebind {

struct ChurnConfig {
  SockAddr target;
  std::vector<SockAddr> sources;  // bound round robin (port 0) when not empty
  bool linger0 = false;           // SO_LINGER {1, 0}: close sends RST, leaves no TIME_WAIT
  bool bind_no_port = false;      // IP_BIND_ADDRESS_NO_PORT before bind(source, 0)
  uint16_t port_lo = 0;           // IP_LOCAL_PORT_RANGE per socket when port_hi != 0
  uint16_t port_hi = 0;
  uint32_t concurrency = 1;
  uint64_t count = 0;        // attempts to make; 0 = no limit
  uint64_t duration_ns = 0;  // 0 = no limit
  uint64_t timeout_ns = 0;   // per connect; 0 = none
  bool stop_on_error = false;
};

// Slots of the progress array the loop publishes with relaxed atomic stores; JS reads them as a
// Float64Array while the run goes on.
enum ChurnProgressSlot {
  kProgressAttempts = 0,
  kProgressConnects,
  kProgressErrors,
  kProgressElapsedNs,
  kProgressDone,
  kProgressSlots
};

// Latency histogram: exact below 256 ns, then 128 sub-buckets per power of two (error < 0.4 %).
constexpr int kLatencySub = 128;
constexpr int kLatencyBuckets = 2 * kLatencySub + 56 * kLatencySub;
uint32_t latency_bucket(uint64_t ns);
uint64_t latency_bucket_mid(uint32_t index);

constexpr int kMaxErrno = 512;

struct ChurnFailure {
  bool present = false;
  int error = 0;             // positive errno
  const char* syscall = "";  // socket | setsockopt | bind | connect
  uint64_t attempt = 0;      // 1-based ordinal of the failed attempt
  uint64_t at_ns = 0;        // since the run started
  SockAddr local;            // getsockname() right after the failure
  SockAddr remote;
};

struct ChurnResult {
  int setup_error = 0;  // -errno when the run could not start (setns, epoll_create…)
  const char* setup_syscall = "";
  uint64_t attempts = 0;
  uint64_t connects = 0;
  uint64_t errors = 0;
  uint64_t elapsed_ns = 0;
  bool cancelled = false;
  uint64_t latency_max_ns = 0;
  uint64_t latency_min_ns = 0;
  std::vector<uint64_t> latency;  // kLatencyBuckets counts
  uint64_t errno_counts[kMaxErrno] = {0};
  ChurnFailure first_failure;
};

// A socket address in the form connect(2) and bind(2) take.
struct Endpoint {
  sockaddr_storage storage;
  socklen_t len = 0;
};

// Opens /proc/thread-self/ns/net of the calling thread (O_CLOEXEC): fd or -errno.
int churn_open_netns();

// One benchmark run on its own thread. The thread first joins netns_fd (the namespace of the
// thread that started it) when it is in another one, then loops until count, duration, cancel or
// (with stop_on_error) the first failure, then calls on_done from its own thread.
class ChurnRun {
 public:
  ChurnRun() = default;
  ChurnRun(const ChurnRun&) = delete;
  ChurnRun& operator=(const ChurnRun&) = delete;
  ~ChurnRun();

  // Takes ownership of netns_fd. progress points at kProgressSlots doubles that outlive the run.
  // Returns 0 or -errno (pthread_create).
  int start(const ChurnConfig& config, int netns_fd, double* progress,
            std::function<void()> on_done);
  void cancel() { cancel_.store(true, std::memory_order_relaxed); }
  void join();
  const ChurnResult& result() const { return result_; }

 private:
  static void* thread_main(void* self);
  void run();
  bool prepare();
  bool setup_failed(int rc, const char* syscall);
  bool should_stop(uint64_t now) const;
  int wait_ms() const;
  void publish(uint64_t now);
  void record_connect(uint64_t ns);
  void record_failure(int fd, int error, const char* syscall, uint64_t attempt, uint64_t now);
  const char* set_options(int fd, bool blocking, uint64_t attempt, int* error);
  int open_socket(uint64_t attempt, bool blocking);
  void run_blocking();
  void run_multiplexed();
  ChurnConfig config_;
  Endpoint target_;
  std::vector<Endpoint> sources_;
  uint64_t start_ = 0;
  uint64_t deadline_ = UINT64_MAX;
  int netns_fd_ = -1;
  double* progress_ = nullptr;
  std::function<void()> on_done_;
  std::atomic<bool> cancel_{false};
  pthread_t thread_{};
  bool started_ = false;
  ChurnResult result_;
};

// A loopback listener with a big backlog, on its own thread: accepts at once, and closes each
// connection when the client's FIN or RST arrives, so the client is always the side that closes
// first (its TIME_WAIT is what the benchmark measures) and the accept queue never hides exhaustion.
class ChurnListener {
 public:
  ChurnListener() = default;
  ChurnListener(const ChurnListener&) = delete;
  ChurnListener& operator=(const ChurnListener&) = delete;
  ~ChurnListener();

  // addr.port may be 0. The socket is made on the calling thread, so it lives in that thread's
  // namespace; the accept thread needs none of its own. Returns 0 or -errno.
  int start(const SockAddr& addr, int backlog);
  void stop();
  uint16_t port() const { return port_; }
  uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  uint64_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  static void* thread_main(void* self);
  void run();
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> open_{0};
  pthread_t thread_{};
  bool started_ = false;
};

}  // namespace safebind
