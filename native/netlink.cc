// One netlink request and its (possibly multi-part) reply. netlink(7), rtnetlink(7), sock_diag(7).
// A dump arrives as datagrams the kernel sizes to about 32 KiB (at least the largest buffer we
// offered, capped); the receive buffer is larger than that, so no datagram is ever truncated, and
// it is allocated once per request rather than per message.
//
// The kernel fills each datagram of a dump inside our recvfrom() (netlink_recvmsg runs the next
// dump step before it returns), so a dump read and parsed by one thread costs kernel time plus
// parse time. nl_request_pipelined overlaps them for the big dumps: a receiver thread reads ahead
// into a ring of buffers while the calling thread parses. futex(2), pthread_create(3),
// sched_getcpu(3).
#include "netlink.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <memory>
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
// Without a callback it only tells where the reply ends (the pipelined receiver's scan): the same
// answer as with one, unless a callback fails first.
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
    if (cb) {
      int rc = cb(msg, ctx);
      if (rc < 0) return rc;
    }
    if (!(msg->nlmsg_flags & NLM_F_MULTI)) return 1;
  }
  // Bytes left that do not make a whole message: the datagram is malformed, and a reply that
  // silently lost its tail would read as "no such address".
  if (len > 0) return -EBADMSG;
  return more ? 0 : 1;
}

// Opens a socket of `protocol` in *sock, binds it and sends `req` (nlmsg_seq filled in); *pid is
// the port id the kernel gave the socket. 0 or -errno.
int send_request(int protocol, nlmsghdr* req, Fd* sock, uint32_t* pid) {
  sock->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (sock->fd < 0) return -errno;

  sockaddr_nl local = {};
  local.nl_family = AF_NETLINK;
  if (bind(sock->fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) return -errno;
  socklen_t local_len = sizeof(local);
  if (getsockname(sock->fd, reinterpret_cast<sockaddr*>(&local), &local_len) < 0) return -errno;
  *pid = local.nl_pid;
  // Fresh socket: the sequence only has to differ from 0 to tell replies from stray multicasts.
  req->nlmsg_seq = 1;
  req->nlmsg_pid = 0;

  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(sock->fd, req, req->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                  sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  return sent < 0 ? -errno : 0;
}

// The next datagram from the kernel into buf: its size, or -errno (-EMSGSIZE when it did not fit).
ssize_t receive(int fd, char* buf, size_t size) {
  for (;;) {
    sockaddr_nl from = {};
    socklen_t from_len = sizeof(from);
    ssize_t n = recvfrom(fd, buf, size, MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      return -err;
    }
    if (n == 0) return -ECONNRESET;
    // Only the kernel (port id 0) answers a request; another process may send to our port id.
    if (from.nl_pid != 0) continue;
    if (static_cast<size_t>(n) > size) return -EMSGSIZE;
    return n;
  }
}

// read_reply's answer when the reply goes on past the datagrams it was allowed.
constexpr int kGoesOn = 1;

// Reads and walks the reply one datagram at a time, at most `limit` of them. nl_request's result,
// or kGoesOn.
int read_reply(int fd, uint32_t seq, uint32_t pid, NlCallback cb, void* ctx,
               size_t limit = SIZE_MAX) {
  std::vector<char> buf(kRecvBuffer);
  for (size_t i = 0; i < limit; i++) {
    ssize_t n = receive(fd, buf.data(), buf.size());
    if (n < 0) return static_cast<int>(n);
    int rc = walk(buf.data(), static_cast<size_t>(n), seq, pid, cb, ctx);
    if (rc != 0) return rc < 0 ? rc : 0;
  }
  return kGoesOn;
}

// --- the pipelined reply ---

// Relaxes a spinning core (and yields it to its sibling thread, where there is one).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// A count one thread advances and the other waits on. The waiter spins briefly first: a sleeping
// waiter costs the advancing side a futex wake-up (a syscall; in a VM, an IPI too). Then it sleeps
// on the count itself, so the kernel re-checks the value and no wake-up is lost, and it says from
// which count on it wants to be woken: one wake-up covers a batch of datagrams. The advancing side
// makes the syscall only when that count is reached (Dekker: each side stores its word, then loads
// the other's, all sequentially consistent, so at least one of them sees the other's store).
class Count {
 public:
  uint32_t get() const { return value_.load(std::memory_order_acquire); }

  // One more; whatever was written before is visible to the thread that sees the new count. `last`:
  // no more will come, so a sleeping waiter is woken whatever it asked for.
  void advance(bool last = false) {
    const uint32_t now = value_.fetch_add(1, std::memory_order_seq_cst) + 1;
    const uint32_t wake_at = wake_at_.load(std::memory_order_seq_cst);
    if (wake_at != 0 && (last || now >= wake_at)) futex(FUTEX_WAKE_PRIVATE, 1);
  }

  // Waits until the count reaches `need` (> 0). Once asleep it is woken when the count reaches
  // `batch` (>= need), or by a `last` advance, which must bring the count to `need`. Returns
  // whether it slept.
  bool wait_for(uint32_t need, uint32_t batch) {
    uint32_t now = get();
    for (int i = 0; i < kSpins && now < need; i++) {
      cpu_relax();
      now = get();
    }
    if (now >= need) return false;
    wake_at_.store(batch, std::memory_order_seq_cst);
    // FUTEX_WAIT returns at once if the count moved since it was read: no advance is missed.
    while ((now = value_.load(std::memory_order_seq_cst)) < need) futex(FUTEX_WAIT_PRIVATE, now);
    wake_at_.store(0, std::memory_order_relaxed);
    return true;
  }

 private:
  // Microseconds of pause (PAUSE takes 10 to 140 cycles, by CPU: 15 µs on the Ice Lake measured).
  // Longer spins measured no better: a datagram takes the kernel about 60 µs, and a spinning core
  // is taken from other tasks.
  static constexpr int kSpins = 1024;
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                    std::atomic<uint32_t>::is_always_lock_free,
                "futex(2) needs the count to be a plain 32-bit word");

  void futex(int op, uint32_t value) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&value_), op, value, nullptr, nullptr, 0);
  }

  // Each count on a cache line of its own: the two threads write one each.
  alignas(64) std::atomic<uint32_t> value_{0};
  std::atomic<uint32_t> wake_at_{0};  // 0: the waiter is awake
};

// Datagrams read in turn before a receiver thread is started: a reply of up to ~2,900 sockets
// never pays for one. (Up to ~50,000 sockets toward few destinations the pipeline saves about
// what it costs; its gain grows with the parse's cache misses, i.e. with destinations.)
constexpr size_t kReadFirst = 8;
// Datagrams in flight (8 × 64 KiB): room for the parser's batch and most of its hiccups (a table
// resize takes up to a millisecond) while the receiver goes on. 16 measured no better: more
// buffers, more page faults.
constexpr uint32_t kRing = 8;
// A parser that had to sleep is woken for this many datagrams at once: it parses several times
// faster than the kernel fills them, so it would otherwise sleep and be woken once per datagram.
// At most kRing, or the receiver, waiting for a free slot, would never get there.
constexpr uint32_t kBatch = 4;
static_assert(kBatch >= 1 && kBatch <= kRing, "a batch fits in the ring");

// One received datagram: its size, or -errno (the receiver's last). Not zeroed: the kernel writes
// what is read.
struct Slot {
  std::unique_ptr<char[]> buf{new char[kRecvBuffer]};
  ssize_t size = 0;
};

// Datagram n goes in slot n % kRing: the receiver fills it once `freed` has reached n - kRing + 1,
// the parser walks it once `filled` has reached n + 1.
struct Pipe {
  Pipe(int socket, uint32_t sequence, uint32_t port_id) : fd(socket), seq(sequence), pid(port_id) {}
  const int fd;
  const uint32_t seq, pid;
  Slot slots[kRing];
  Count filled;                       // datagrams received (by the receiver)
  Count freed;                        // datagrams walked (by the parser), and one more for `stop`
  std::atomic<bool> stop{false};      // the parser is done: receive no more
  std::atomic<int> receiver_cpu{-1};  // where the receiver ran last (sched_getcpu)
};

// The receiver thread: reads datagrams into free slots until the reply's end, which it finds
// itself (walk without a callback, message headers only) so that it never waits in recvfrom for a
// datagram the kernel will not send; or until the parser stops it.
void* receive_ahead(void* arg) {
  auto* p = static_cast<Pipe*>(arg);
  for (uint32_t n = 0;; n++) {
    // The slot's previous datagram, n - kRing, walked. Only that one is missing (the last turn
    // waited for the one before), so stop_receiver's single advance always ends the wait.
    if (n >= kRing) p->freed.wait_for(n - kRing + 1, n - kRing + 1);
    if (p->stop.load(std::memory_order_acquire)) return nullptr;
    Slot& s = p->slots[n % kRing];
    s.size = receive(p->fd, s.buf.get(), kRecvBuffer);
    p->receiver_cpu.store(sched_getcpu(), std::memory_order_relaxed);
    const bool last = s.size < 0 || walk(s.buf.get(), static_cast<size_t>(s.size), p->seq, p->pid,
                                         nullptr, nullptr) != 0;
    p->filled.advance(last);
    if (last) return nullptr;
  }
}

// parse_behind's answer when the two threads share a CPU: the caller reads on alone.
constexpr int kAlone = 1;
// Wake-ups in a row on the receiver's CPU before the parser gives up on the pipeline.
constexpr int kSharedWakes = 8;

// Whether the calling thread runs on the CPU the receiver ran on last.
bool on_receiver_cpu(const Pipe* p) {
  const int cpu = sched_getcpu();
  return cpu >= 0 && cpu == p->receiver_cpu.load(std::memory_order_relaxed);
}

// Walks datagram n, or returns the error the receiver met in its place.
int walk_slot(const Pipe* p, uint32_t n, NlCallback cb, void* ctx) {
  const Slot& s = p->slots[n % kRing];
  if (s.size < 0) return static_cast<int>(s.size);
  return walk(s.buf.get(), static_cast<size_t>(s.size), p->seq, p->pid, cb, ctx);
}

// The parser (the calling thread): walks each datagram as it arrives, and frees its slot. Stops at
// the datagram the receiver ended on, or earlier when a callback fails: nl_request's result. Or
// returns kAlone, *next being the first datagram it did not walk, when it keeps waking on the
// receiver's CPU (another task holds the other one): each wake-up would preempt the receiver, and
// taking turns costs more than reading alone.
int parse_behind(Pipe* p, NlCallback cb, void* ctx, uint32_t* next) {
  int shared = 0;
  for (uint32_t n = 0;; n++) {
    // The receiver's last datagram is at least datagram n, so its `last` advance ends the wait.
    if (p->filled.wait_for(n + 1, n + kBatch)) {
      shared = on_receiver_cpu(p) ? shared + 1 : 0;
      if (shared == kSharedWakes) {
        *next = n;
        return kAlone;
      }
    }
    const int rc = walk_slot(p, n, cb, ctx);
    p->freed.advance();
    if (rc != 0) return rc < 0 ? rc : 0;
  }
}

// After kAlone, once the receiver has stopped: walks the datagrams it left in the ring, from
// `next`, then reads the rest of the reply, if any, as nl_request does.
int finish_alone(const Pipe* p, uint32_t next, NlCallback cb, void* ctx) {
  for (uint32_t n = next; n < p->filled.get(); n++) {
    const int rc = walk_slot(p, n, cb, ctx);
    if (rc != 0) return rc < 0 ? rc : 0;
  }
  return read_reply(p->fd, p->seq, p->pid, cb, ctx);
}

// Tells the receiver to stop and wakes it if it waits for a slot. One that is in recvfrom returns
// with the datagram the kernel queued before (a running dump always has the next one queued), and
// one that saw the reply's end has returned already. The extra advance frees no slot: a receiver
// whose wait it ends has seen `stop` too (stored before it), and returns before writing one.
void stop_receiver(Pipe* p) {
  p->stop.store(true, std::memory_order_seq_cst);
  p->freed.advance(/*last=*/true);
}

// Whether this thread may run on more than one CPU. On one, the receiver and the parser would
// take turns, and the pipeline would add only thread switches.
bool several_cpus() {
  cpu_set_t set;
  // An error is a mask larger than cpu_set_t: more than 1,024 CPUs.
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return true;
  return CPU_COUNT(&set) > 1;
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
  uint32_t pid = 0;
  int rc = send_request(protocol, req, &sock, &pid);
  if (rc < 0) return rc;
  return read_reply(sock.fd, req->nlmsg_seq, pid, cb, ctx);
}

int nl_request_pipelined(int protocol, nlmsghdr* req, NlCallback cb, void* ctx) {
  Fd sock;
  uint32_t pid = 0;
  int rc = send_request(protocol, req, &sock, &pid);
  if (rc < 0) return rc;
  // A small reply is over before a thread would pay; on one CPU none ever would.
  rc = read_reply(sock.fd, req->nlmsg_seq, pid, cb, ctx, several_cpus() ? kReadFirst : SIZE_MAX);
  if (rc != kGoesOn) return rc;
  Pipe pipe(sock.fd, req->nlmsg_seq, pid);
  pthread_t receiver;
  // No thread to spare: the same reply, read and parsed in turn.
  if (pthread_create(&receiver, nullptr, receive_ahead, &pipe) != 0)
    return read_reply(sock.fd, req->nlmsg_seq, pid, cb, ctx);
  // The socket and the pipe outlive the receiver: it is joined on every path below.
  uint32_t next = 0;
  rc = parse_behind(&pipe, cb, ctx, &next);
  stop_receiver(&pipe);
  pthread_join(receiver, nullptr);
  return rc == kAlone ? finish_alone(&pipe, next, cb, ctx) : rc;
}

}  // namespace safebind
