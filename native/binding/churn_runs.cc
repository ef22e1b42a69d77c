// The churn runs and listeners of one environment, and their teardown (see churn_runs.h).
//
// Why a cleanup hook per run: at environment teardown (worker.terminate(), process exit) Node
// closes and frees every threadsafe function in a cleanup hook of its own, and frees this addon
// (and with it the runs) only later. A run thread still going in between would call a freed
// function (an abort in uv_mutex_lock). Cleanup hooks run in the reverse order of registration, so
// a hook added right after the run's threadsafe function runs before Node's hook for it: it bars
// the thread from the function, cancels the run and joins the thread while the function still
// exists. Nothing here calls into JavaScript from teardown.
#include "churn_runs.h"

#include <errno.h>
#include <stdint.h>

#include <mutex>

namespace safebind {

struct ChurnRuns::Run {
  uint32_t id = 0;
  Napi::ObjectReference progress;  // the ArrayBuffer the run writes into
  napi_threadsafe_function done = nullptr;
  bool hooked = false;  // the teardown hook is registered and has not run
  // Orders the thread's one call of `done` against teardown: once `closed` is set under the lock,
  // the thread never touches `done` again.
  std::mutex lock;
  bool closed = false;
  ChurnRun run;  // declared last, so destroyed (cancelled and joined) first

  ~Run() {
    std::lock_guard<std::mutex> guard(lock);
    closed = true;
  }

  // On the run's own thread, once, when the loop is over.
  void Deliver() {
    std::lock_guard<std::mutex> guard(lock);
    if (closed) return;
    void* key = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
    // napi_closing means Node is already closing the function: the result is dropped, and so is
    // this thread's hold on it.
    if (napi_call_threadsafe_function(done, key, napi_tsfn_blocking) == napi_closing) return;
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }
};

ChurnRuns::ChurnRuns(PackResult pack) : pack_(pack) {}

ChurnRuns::~ChurnRuns() {
  runs_.clear();
  listeners_.clear();
}

int64_t ChurnRuns::Start(Napi::Env env, const ChurnConfig& config, Napi::ArrayBuffer progress,
                         Napi::Function on_done) {
  auto* slots = static_cast<double*>(progress.Data());
  if (slots == nullptr) return -ECANCELED;  // the environment is going away
  auto r = std::make_unique<Run>();
  r->id = next_id_;
  napi_value name;
  if (napi_create_string_utf8(env, "safebind-churn", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, on_done, nullptr, name, 0, 1, nullptr, nullptr, this,
                                      CallDone, &r->done) != napi_ok)
    return -ECANCELED;
  if (napi_add_env_cleanup_hook(env, Teardown, r.get()) != napi_ok) {
    napi_release_threadsafe_function(r->done, napi_tsfn_abort);
    return -ENOMEM;
  }
  r->hooked = true;
  int netns = churn_open_netns();
  int rc = netns;
  if (netns >= 0) {
    r->progress = Napi::Persistent(progress.As<Napi::Object>());
    for (int i = 0; i < kProgressSlots; i++) slots[i] = 0;
    Run* run = r.get();
    rc = run->run.start(config, netns, slots, [run]() { run->Deliver(); });  // takes netns
  }
  if (rc < 0) {
    napi_remove_env_cleanup_hook(env, Teardown, r.get());
    napi_release_threadsafe_function(r->done, napi_tsfn_abort);
    return rc;
  }
  runs_[next_id_] = std::move(r);
  return next_id_++;
}

int ChurnRuns::Cancel(uint32_t id) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return -ESRCH;
  it->second->run.cancel();
  return 0;
}

// On the JS thread, from the threadsafe function's queue. env is nullptr when Node empties the
// queue of a function it is deleting: then the environment is going and the run is torn down.
void ChurnRuns::CallDone(napi_env env, napi_value on_done, void* context, void* data) {
  if (env == nullptr || on_done == nullptr) return;
  auto* self = static_cast<ChurnRuns*>(context);
  auto it = self->runs_.find(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data)));
  if (it == self->runs_.end()) return;
  std::unique_ptr<Run> r = std::move(it->second);
  self->runs_.erase(it);
  if (r->hooked) napi_remove_env_cleanup_hook(env, Teardown, r.get());
  r->hooked = false;
  r->run.join();
  napi_value result = self->pack_(Napi::Env(env), r->run.result());
  r.reset();
  napi_value undefined;
  if (result == nullptr || napi_get_undefined(env, &undefined) != napi_ok) return;
  // A throw from the callback stays pending: Node reports it as an uncaught exception.
  napi_call_function(env, undefined, on_done, 1, &result, nullptr);
}

// Environment teardown, on the JS thread, before Node closes the run's threadsafe function.
void ChurnRuns::Teardown(void* arg) {
  auto* r = static_cast<Run*>(arg);
  r->hooked = false;
  {
    std::lock_guard<std::mutex> guard(r->lock);
    r->closed = true;
  }
  r->run.cancel();
  r->run.join();
}

int64_t ChurnRuns::Listen(const SockAddr& addr, int backlog) {
  auto listener = std::make_unique<ChurnListener>();
  int rc = listener->start(addr, backlog);
  if (rc < 0) return rc;
  listeners_[next_id_] = std::move(listener);
  return next_id_++;
}

const ChurnListener* ChurnRuns::Listener(uint32_t id) const {
  auto it = listeners_.find(id);
  return it == listeners_.end() ? nullptr : it->second.get();
}

int ChurnRuns::CloseListener(uint32_t id) {
  auto it = listeners_.find(id);
  if (it == listeners_.end()) return -ESRCH;
  listeners_.erase(it);
  return 0;
}

}  // namespace safebind
