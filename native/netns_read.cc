// One network namespace read by a dedicated thread. setns(2), namespaces(7), sock_diag(7),
// proc(5), pthread_create(3).
//
// Why a thread of its own: setns(CLONE_NEWNET) moves only the calling thread. A libuv pool thread
// left in a foreign namespace would answer the next fs or dns job of the process from there, so the
// reader is a fresh pthread that enters, reads and exits; it never returns anywhere.
//
// What the walk costs: two sock_diag dumps. The LISTEN-only dump walks only the listening hash (the
// kernel skips the established hash when no other state is asked), so it is cheap; the second is
// the one walk of the established hash for both families (the TCPDIAG_GETSOCK request of
// sock_diag.cc), each socket grouped by destination as it arrives: no per-socket object, no text.
#include "netns_read.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <unordered_map>

namespace safebind {
namespace {

constexpr int kListen = 10;         // TCP_LISTEN
constexpr int kTimeWait = 6;        // TCP_TIME_WAIT
constexpr int kTwTimer = 3;         // idiag_timer of a TIME_WAIT socket
constexpr double kTwLenMs = 60000;  // TCP_TIMEWAIT_LEN
constexpr size_t kMaxFile = 64 * 1024;

struct Key {
  uint8_t family;
  uint8_t addr[16];
  uint16_t port;
  bool operator==(const Key& o) const {
    return family == o.family && port == o.port && memcmp(addr, o.addr, 16) == 0;
  }
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    // Multiply-xor over the address words and the port: one hash per socket of the walk.
    uint64_t a, b;
    memcpy(&a, k.addr, 8);
    memcpy(&b, k.addr + 8, 8);
    uint64_t h = a * 0x9E3779B97F4A7C15ull;
    h ^= b * 0xC2B2AE3D27D4EB4Full;
    h ^= ((static_cast<uint64_t>(k.port) << 8) | k.family) * 0x165667B19E3779F9ull;
    h ^= h >> 29;
    return static_cast<size_t>(h);
  }
};

const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The destination's key; a v4-mapped IPv6 peer is the IPv4 destination it stands for.
Key key_of(int family, const uint32_t* words, uint16_t port) {
  Key k;
  memset(&k, 0, sizeof(k));
  k.port = port;
  const auto* bytes = reinterpret_cast<const uint8_t*>(words);
  if (family == AF_INET6 && memcmp(bytes, kMapped, 12) == 0) {
    k.family = AF_INET;
    memcpy(k.addr, bytes + 12, 4);
  } else if (family == AF_INET6) {
    k.family = AF_INET6;
    memcpy(k.addr, bytes, 16);
  } else {
    k.family = AF_INET;
    memcpy(k.addr, bytes, 4);
  }
  return k;
}

struct Counts {
  uint32_t total = 0;
  uint32_t by_state[kNlStates] = {0};
  uint32_t fresh = 0;
  int32_t timers = -1;  // index of its TIME_WAIT timer histogram in Walk::timers; -1: none yet
};

using Histogram = std::array<uint32_t, kTwBuckets>;

// Per destination: every socket toward it (what an asked destination reports), and the outbound
// ones alone (local port not a listening port: what ranks the busiest).
struct Tally {
  Counts all, outbound;
  bool asked = false;
};

struct Walk {
  uint32_t* states;
  std::vector<bool> listening = std::vector<bool>(65536, false);
  std::unordered_map<Key, Tally, KeyHash> by_dest;  // the asked ones pre-filled
  // Only destinations with a TIME_WAIT socket get a histogram (240 bytes), made on the first one.
  std::vector<Histogram> timers;
  // A TIME_WAIT timer above this started after the previous walk (see NsGroup::fresh_time_wait).
  double fresh_above_ms = -1;
};

void on_listener(const NlSockSeen& s, void* ctx) {
  auto* w = static_cast<Walk*>(ctx);
  if (s.state < kNlStates) w->states[s.state]++;
  w->listening[s.sport] = true;
}

void add(Counts* c, int state) {
  c->total++;
  if (state < kNlStates) c->by_state[state]++;
}

// A TIME_WAIT socket's timer, kept for one Counts of its destination only (the one reported: all
// sockets for an asked destination, the outbound ones for the others), so a socket of the walk
// touches at most one histogram.
void add_timer(Walk* w, Counts* c, uint32_t expires_ms) {
  if (static_cast<double>(expires_ms) > w->fresh_above_ms) c->fresh++;
  if (c->timers < 0) {
    c->timers = static_cast<int32_t>(w->timers.size());
    w->timers.push_back(Histogram{});
  }
  size_t bucket = std::min<size_t>(expires_ms / 1000, kTwBuckets - 1);
  w->timers[static_cast<size_t>(c->timers)][bucket]++;
}

void on_socket(const NlSockSeen& s, void* ctx) {
  auto* w = static_cast<Walk*>(ctx);
  if (s.state < kNlStates) w->states[s.state]++;
  Key k = key_of(s.family, s.dst, s.dport);
  const bool time_wait = s.state == kTimeWait && s.timer == kTwTimer;
  // The server side of an inbound connection: its peer port is a client's source port, no
  // destination of ours; it counts only toward an asked destination.
  if (w->listening[s.sport]) {
    auto it = w->by_dest.find(k);
    if (it == w->by_dest.end()) return;
    add(&it->second.all, s.state);
    if (time_wait && it->second.asked) add_timer(w, &it->second.all, s.expires_ms);
    return;
  }
  Tally& t = w->by_dest[k];
  add(&t.all, s.state);
  add(&t.outbound, s.state);
  if (time_wait) add_timer(w, t.asked ? &t.all : &t.outbound, s.expires_ms);
}

NsGroup group_of(const Walk& w, const Key& k, const Counts& c) {
  NsGroup g;
  g.fresh_time_wait = c.fresh;
  if (c.timers >= 0) {
    const Histogram& h = w.timers[static_cast<size_t>(c.timers)];
    std::copy(h.begin(), h.end(), g.time_wait_timers);
  }
  g.dest.family = k.family;
  memcpy(g.dest.addr, k.addr, 16);
  g.dest.port = k.port;
  g.total = c.total;
  memcpy(g.counts, c.by_state, sizeof(g.counts));
  return g;
}

bool busier(const NsGroup& a, const NsGroup& b) {
  if (a.total != b.total) return a.total > b.total;
  if (a.dest.family != b.dest.family) return a.dest.family < b.dest.family;
  int c = memcmp(a.dest.addr, b.dest.addr, 16);
  if (c != 0) return c < 0;
  return a.dest.port < b.dest.port;
}

Key key_of_dest(const NsDest& d) {
  Key k;
  memset(&k, 0, sizeof(k));
  k.family = static_cast<uint8_t>(d.family);
  memcpy(k.addr, d.addr, 16);
  k.port = d.port;
  return k;
}

int walk_tcp(const NsReadQuery& q, NsReadResult* out) {
  Walk w;
  w.states = out->states;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  out->walk_ms = static_cast<double>(now.tv_sec) * 1000 + static_cast<double>(now.tv_nsec) / 1e6;
  // Without a previous walk every TIME_WAIT socket counts (the caller makes no rate of it).
  if (q.since_ms > 0) w.fresh_above_ms = kTwLenMs - (out->walk_ms - q.since_ms);
  w.by_dest.reserve(q.dests.size() + 1024);
  for (const NsDest& d : q.dests) w.by_dest[key_of_dest(d)].asked = true;
  NlSockQuery listen_q;
  listen_q.protocol = IPPROTO_TCP;
  listen_q.family = AF_UNSPEC;
  listen_q.states = 1u << kListen;
  int rc = nl_socket_visit(listen_q, on_listener, &w);
  if (rc < 0) return rc;
  NlSockQuery rest_q = listen_q;
  rest_q.states = ~(1u << kListen);
  rc = nl_socket_visit(rest_q, on_socket, &w);
  if (rc < 0) return rc;

  if (q.top > 0) {
    std::vector<NsGroup> all;
    all.reserve(w.by_dest.size());
    // The busiest *other* destinations: the asked ones are reported on their own.
    for (const auto& kv : w.by_dest)
      if (!kv.second.asked && kv.second.outbound.total > 0)
        all.push_back(group_of(w, kv.first, kv.second.outbound));
    size_t n = std::min(q.top, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<long>(n), all.end(), busier);
    all.resize(n);
    out->top = std::move(all);
  }
  for (const NsDest& d : q.dests)
    out->dests.push_back(group_of(w, key_of_dest(d), w.by_dest[key_of_dest(d)].all));
  return 0;
}

NsFile read_file(const std::string& path) {
  NsFile f;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    f.rc = -errno;
    return f;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      f.rc = -err;
      break;
    }
    if (n == 0) break;
    if (f.text.size() + static_cast<size_t>(n) > kMaxFile) {
      f.rc = -EFBIG;
      break;
    }
    f.text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return f;
}

struct Job {
  const NsReadQuery* query;
  NsReadResult* out;
};

void* reader(void* arg) {
  Job* job = static_cast<Job*>(arg);
  NsReadResult* out = job->out;
  int fd = open(job->query->path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out->open_rc = -errno;
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) == 0) {
    out->inode = st.st_ino;
    out->dev = st.st_dev;
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc < 0) {
    out->setns_rc = -err;
    return nullptr;
  }
  // From here on this thread is in the namespace; it exits when done and is never reused.
  out->diag_rc = walk_tcp(*job->query, out);
  for (const std::string& path : job->query->files) out->files.push_back(read_file(path));
  return nullptr;
}

}  // namespace

int ns_read(const NsReadQuery& query, NsReadResult* out) {
  Job job = {&query, out};
  pthread_t thread;
  int rc = pthread_create(&thread, nullptr, reader, &job);
  if (rc != 0) return -rc;
  rc = pthread_join(thread, nullptr);
  return rc != 0 ? -rc : 0;
}

}  // namespace safebind
