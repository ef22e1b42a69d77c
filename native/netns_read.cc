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
// sock_diag.cc), each socket grouped by source-port pool — destination and source address — as it
// arrives: no per-socket object, no text. A destination is reported by its fullest pool.
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
#include <vector>

namespace safebind {
namespace {

constexpr int kListen = 10;         // TCP_LISTEN
constexpr int kBoundInactive = 13;  // TCP_BOUND_INACTIVE (Linux 6.5+): sockets only bound
constexpr int kTimeWait = 6;        // TCP_TIME_WAIT
constexpr int kTwTimer = 3;         // idiag_timer of a TIME_WAIT socket
constexpr double kTwLenMs = 60000;  // TCP_TIMEWAIT_LEN
constexpr size_t kMaxFile = 64 * 1024;

// The address as two words, built from the socket's words in registers: a key written byte by
// byte and read back as words would stall each lookup on store forwarding.
// A source-port pool: the destination, and the source address its connections leave from (each
// source has a pool of its own toward a destination). A key with a zero source names the
// destination alone (the asked destinations, a destination's fullest pool).
struct Key {
  uint64_t lo, hi;  // the destination's address bytes, in order (IPv4: the first 4, the rest 0)
  uint64_t src_lo, src_hi;  // the source's, the same way
  uint16_t port;
  uint8_t family;
  bool operator==(const Key& o) const {
    return lo == o.lo && hi == o.hi && src_lo == o.src_lo && src_hi == o.src_hi && port == o.port &&
           family == o.family;
  }
  Key destination() const {
    Key d = *this;
    d.src_lo = d.src_hi = 0;
    return d;
  }
};

// Multiply-xor over the address words and the port: one hash per socket of the walk. The table
// takes a slot from the top bits; the last multiply gives every bit a say in them (without it,
// 127.0.x.y:9000 destinations clustered: 1.9 probes a lookup at a third full, 5.6 for 120,000).
inline uint64_t hash_of(const Key& k) {
  uint64_t h = k.lo * 0x9E3779B97F4A7C15ull;
  h ^= k.hi * 0xC2B2AE3D27D4EB4Full;
  h ^= k.src_lo * 0xD6E8FEB86659FD93ull;
  h ^= k.src_hi * 0xFF51AFD7ED558CCDull;
  h ^= ((static_cast<uint64_t>(k.port) << 8) | k.family) * 0x165667B19E3779F9ull;
  h ^= h >> 29;
  return h * 0x9E3779B97F4A7C15ull;
}

// An IPv4 address as Key::lo: its 4 bytes first in memory, then 4 zero bytes.
inline uint64_t v4_word(uint32_t addr) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return static_cast<uint64_t>(addr) << 32;
#else
  return addr;
#endif
}

// An address as two words; a v4-mapped IPv6 one (::ffff:a.b.c.d) as the IPv4 address it stands
// for. Returns the family it is then.
inline uint8_t words_of(int family, const uint32_t* words, uint64_t* lo, uint64_t* hi) {
  *hi = 0;
  if (family != AF_INET6) {
    *lo = v4_word(words[0]);
    return AF_INET;
  }
  if (words[0] == 0 && words[1] == 0 && words[2] == htonl(0xffff)) {
    *lo = v4_word(words[3]);
    return AF_INET;
  }
  memcpy(lo, words, 8);
  memcpy(hi, words + 2, 8);
  return AF_INET6;
}

// The pool's key: the destination (a v4-mapped peer is the IPv4 destination it stands for) and the
// source.
inline Key key_of(int family, const uint32_t* src, const uint32_t* dst, uint16_t port) {
  Key k;
  k.port = port;
  k.family = words_of(family, dst, &k.lo, &k.hi);
  words_of(family, src, &k.src_lo, &k.src_hi);
  return k;
}

struct Counts {
  uint32_t total = 0;
  uint32_t fresh = 0;
  int32_t timers = -1;  // index of its TIME_WAIT timer histogram in Walk::timers; -1: none yet
  uint32_t by_state[kNlStates] = {0};
};

using Histogram = std::array<uint32_t, kTwBuckets>;

// Per destination, the one count that is reported: for an asked destination every socket toward
// it, for the others the outbound ones alone (local port not a listening port: what ranks the
// busiest). One Counts each keeps a socket's update to one count and an entry to two cache lines.
struct Tally {
  bool asked = false;
  Counts counts;
};

// Key -> Tally for the walk: every socket is one lookup, so a flat table instead of
// std::unordered_map (a node and a prime modulo per entry). Entries sit densely in insertion order;
// the slots, a power of two at most half full, hold entry index + 1 (0: empty) in the bits below
// the mask and the hash's low bits above it, a tag that skips most key compares. Linear probing on
// the hash's top bits, where a multiply mixes in every input bit.
class DestTable {
 public:
  struct Entry {
    Key key;
    Tally tally;
  };

  explicit DestTable(size_t expected) {
    entries_.reserve(expected);
    size_t want = 16;
    while (want < 2 * expected) want *= 2;
    resize(want);
  }

  static constexpr uint32_t kNone = ~0u;

  // The index of k's entry, or kNone.
  uint32_t find(const Key& k, uint64_t h) const {
    const uint32_t tag = static_cast<uint32_t>(h) & ~mask_;
    for (size_t i = h >> shift_;; i = (i + 1) & mask_) {
      const uint32_t s = slots_[i];
      if (s == 0) return kNone;
      if ((s & ~mask_) == tag && entries_[(s & mask_) - 1].key == k) return (s & mask_) - 1;
    }
  }

  // The entry of k, made (zero counts, not asked) if missing. An index stays valid while the table
  // grows, a pointer would not.
  uint32_t find_or_add(const Key& k) {
    const uint64_t h = hash_of(k);
    const uint32_t index = find(k, h);
    return index != kNone ? index : add(k, h);
  }

  Entry& at(uint32_t index) { return entries_[index]; }
  const std::vector<Entry>& entries() const { return entries_; }

  // A new entry for k (not in the table), of hash h. Out of line: once per destination, not once
  // per socket.
  __attribute__((noinline)) uint32_t add(const Key& k, uint64_t h) {
    size_t i = h >> shift_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    const auto index = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{k, Tally{}});
    slots_[i] = (static_cast<uint32_t>(h) & ~mask_) | (index + 1);
    if (2 * entries_.size() >= slots_.size()) resize(2 * slots_.size());
    return index;
  }

 private:
  void resize(size_t size) {
    slots_.assign(size, 0);
    mask_ = static_cast<uint32_t>(size - 1);
    shift_ = 64 - __builtin_ctzll(size);
    for (size_t e = 0; e < entries_.size(); e++) {
      const uint64_t h = hash_of(entries_[e].key);
      size_t i = h >> shift_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = (static_cast<uint32_t>(h) & ~mask_) | static_cast<uint32_t>(e + 1);
    }
  }

  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;
  uint32_t mask_ = 0;
  int shift_ = 64;
};

struct Walk {
  Walk(size_t expected, size_t asked) : by_dest(expected), asked_dests(asked) {}
  uint32_t* states;
  std::vector<bool> listening = std::vector<bool>(65536, false);
  DestTable by_dest;      // a pool each: (destination, source)
  DestTable asked_dests;  // the asked destinations (keys with no source)
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

// A TIME_WAIT socket's timer, in its destination's histogram.
void add_timer(Walk* w, Counts* c, uint32_t expires_ms) {
  if (static_cast<double>(expires_ms) > w->fresh_above_ms) c->fresh++;
  if (c->timers < 0) {
    c->timers = static_cast<int32_t>(w->timers.size());
    w->timers.push_back(Histogram{});
  }
  size_t bucket = std::min<size_t>(expires_ms / 1000, kTwBuckets - 1);
  w->timers[static_cast<size_t>(c->timers)][bucket]++;
}

// Whether k's destination was asked for. Once per new pool, not once per socket.
__attribute__((noinline)) bool asked_for(const Walk& w, const Key& k) {
  if (w.asked_dests.entries().empty()) return false;
  const Key d = k.destination();
  return w.asked_dests.find(d, hash_of(d)) != DestTable::kNone;
}

void on_socket(const NlSockSeen& s, void* ctx) {
  auto* w = static_cast<Walk*>(ctx);
  if (s.state < kNlStates) w->states[s.state]++;
  const Key k = key_of(s.family, s.src, s.dst, s.dport);
  const uint64_t h = hash_of(k);
  uint32_t e = w->by_dest.find(k, h);
  const bool time_wait = s.state == kTimeWait && s.timer == kTwTimer;
  // The server side of an inbound connection: its peer port is a client's source port, no
  // destination of ours; it counts only toward an asked destination.
  if (e == DestTable::kNone) {
    const bool asked = asked_for(*w, k);
    if (w->listening[s.sport] && !asked) return;
    e = w->by_dest.add(k, h);
    w->by_dest.at(e).tally.asked = asked;
  } else if (w->listening[s.sport] && !w->by_dest.at(e).tally.asked) {
    return;
  }
  Counts& c = w->by_dest.at(e).tally.counts;
  add(&c, s.state);
  if (time_wait) add_timer(w, &c, s.expires_ms);
}

// Fills a group in place: one is 340 bytes, most of them the histogram.
void group_of(const Walk& w, const Key& k, const Counts& c, NsGroup* g) {
  g->fresh_time_wait = c.fresh;
  if (c.timers >= 0) {
    const Histogram& h = w.timers[static_cast<size_t>(c.timers)];
    std::copy(h.begin(), h.end(), g->time_wait_timers);
  }
  g->dest.family = k.family;
  memcpy(g->dest.addr, &k.lo, 8);
  memcpy(g->dest.addr + 8, &k.hi, 8);
  g->dest.port = k.port;
  g->total = c.total;
  memcpy(g->counts, c.by_state, sizeof(g->counts));
}

// Busiest first: outbound total, then family, address, port (keys are unique: a total order).
bool busier(const DestTable::Entry& a, const DestTable::Entry& b) {
  if (a.tally.counts.total != b.tally.counts.total)
    return a.tally.counts.total > b.tally.counts.total;
  if (a.key.family != b.key.family) return a.key.family < b.key.family;
  uint8_t x[16], y[16];
  memcpy(x, &a.key.lo, 8);
  memcpy(x + 8, &a.key.hi, 8);
  memcpy(y, &b.key.lo, 8);
  memcpy(y + 8, &b.key.hi, 8);
  int c = memcmp(x, y, 16);
  if (c != 0) return c < 0;
  if (a.key.port != b.key.port) return a.key.port < b.key.port;
  memcpy(x, &a.key.src_lo, 8);
  memcpy(x + 8, &a.key.src_hi, 8);
  memcpy(y, &b.key.src_lo, 8);
  memcpy(y + 8, &b.key.src_hi, 8);
  return memcmp(x, y, 16) < 0;
}

Key key_of_dest(const NsDest& d) {
  Key k;
  k.family = static_cast<uint8_t>(d.family);
  memcpy(&k.lo, d.addr, 8);
  memcpy(&k.hi, d.addr + 8, 8);
  k.src_lo = k.src_hi = 0;
  k.port = d.port;
  return k;
}

constexpr uint32_t kNoPool = DestTable::kNone;

// The fuller of two pools (entries of by_dest) of one destination: more sockets, then the lower
// source address, so that the choice does not depend on the walk's order.
uint32_t fuller(const std::vector<DestTable::Entry>& entries, uint32_t a, uint32_t b) {
  if (a == kNoPool) return b;
  return busier(entries[b], entries[a]) ? b : a;
}

int walk_tcp(const NsReadQuery& q, NsReadResult* out) {
  Walk w(q.dests.size() + 1024, q.dests.size());
  w.states = out->states;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  out->walk_ms = static_cast<double>(now.tv_sec) * 1000 + static_cast<double>(now.tv_nsec) / 1e6;
  // Without a previous walk every TIME_WAIT socket counts (the caller makes no rate of it).
  if (q.since_ms > 0) w.fresh_above_ms = kTwLenMs - (out->walk_ms - q.since_ms);
  // Each asked destination's entry in asked_dests, kept for the answer below (a repeated one shares
  // its entry).
  std::vector<uint32_t> asked;
  asked.reserve(q.dests.size());
  for (const NsDest& d : q.dests) asked.push_back(w.asked_dests.find_or_add(key_of_dest(d)));
  NlSockQuery listen_q;
  listen_q.protocol = IPPROTO_TCP;
  listen_q.family = AF_UNSPEC;
  listen_q.states = 1u << kListen;
  int rc = nl_socket_visit(listen_q, on_listener, &w);
  if (rc < 0) return rc;
  NlSockQuery rest_q = listen_q;
  // Not the sockets only bound: no peer, not in ss -tan, and asking for them makes the kernel walk
  // the bind hash too, where every TIME_WAIT socket's port sits (docs/kernel-facts.md).
  rest_q.states = ~((1u << kListen) | (1u << kBoundInactive));
  // The walk of the whole table (hundreds of datagrams): received ahead while grouped.
  rest_q.pipelined = true;
  rc = nl_socket_visit(rest_q, on_socket, &w);
  if (rc < 0) return rc;

  // Each destination is reported by its fullest pool: the one whose connect fails first.
  const std::vector<DestTable::Entry>& entries = w.by_dest.entries();
  std::vector<uint32_t> fullest_asked(w.asked_dests.entries().size(), kNoPool);
  DestTable others(q.top > 0 ? entries.size() : 0);
  std::vector<uint32_t> fullest_other;
  for (size_t e = 0; e < entries.size(); e++) {
    const auto index = static_cast<uint32_t>(e);
    const Key d = entries[e].key.destination();
    if (entries[e].tally.asked) {
      const uint32_t a = w.asked_dests.find(d, hash_of(d));
      fullest_asked[a] = fuller(entries, fullest_asked[a], index);
    } else if (q.top > 0 && entries[e].tally.counts.total > 0) {
      const uint32_t o = others.find_or_add(d);
      if (o == fullest_other.size()) fullest_other.push_back(kNoPool);
      fullest_other[o] = fuller(entries, fullest_other[o], index);
    }
  }
  if (q.top > 0) {
    // The busiest *other* destinations (the asked ones are reported on their own), ranked as
    // indices so that only the n kept become groups.
    size_t n = std::min(q.top, fullest_other.size());
    std::partial_sort(fullest_other.begin(), fullest_other.begin() + static_cast<long>(n),
                      fullest_other.end(),
                      [&](uint32_t a, uint32_t b) { return busier(entries[a], entries[b]); });
    out->top.resize(n);
    for (size_t i = 0; i < n; i++) {
      const DestTable::Entry& pool = entries[fullest_other[i]];
      group_of(w, pool.key, pool.tally.counts, &out->top[i]);
    }
  }
  out->dests.resize(asked.size());
  const Counts none;
  for (size_t i = 0; i < asked.size(); i++) {
    const uint32_t pool = fullest_asked[asked[i]];
    if (pool == kNoPool)
      group_of(w, w.asked_dests.entries()[asked[i]].key, none, &out->dests[i]);
    else
      group_of(w, entries[pool].key, entries[pool].tally.counts, &out->dests[i]);
  }
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
  const bool named = fstat(fd, &st) == 0;
  if (named) {
    out->inode = st.st_ino;
    out->dev = st.st_dev;
  }
  // Already there (the exporter's own namespace): no setns, which needs CAP_SYS_ADMIN, so an
  // unprivileged exporter still reads the namespace it runs in.
  struct stat own;
  const bool here = named && stat("/proc/thread-self/ns/net", &own) == 0 &&
                    own.st_ino == st.st_ino && own.st_dev == st.st_dev;
  int rc = here ? 0 : setns(fd, CLONE_NEWNET);
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
