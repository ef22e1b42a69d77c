// The churn runs and listeners of one environment (one main thread or worker), and their teardown.
// Every thread the churn engine starts is stopped and joined before the environment goes, and a
// run's thread never calls its threadsafe function once teardown has begun. Lifecycle only: the
// arguments are unpacked and the result packed in churn_exports.cc. napi_add_env_cleanup_hook and
// napi_create_threadsafe_function (Node-API), pthread_join(3).
#pragma once

#include <napi.h>

#include <map>
#include <memory>

#include "../bench/churn.h"

namespace safebind {

class ChurnRuns {
 public:
  // Builds the JS result of a finished run; nullptr when the environment can no longer make it.
  using PackResult = napi_value (*)(Napi::Env env, const ChurnResult& result);

  explicit ChurnRuns(PackResult pack);
  ChurnRuns(const ChurnRuns&) = delete;
  ChurnRuns& operator=(const ChurnRuns&) = delete;
  ~ChurnRuns();  // cancels and joins what is left: runs, then listeners

  // Starts a run on its own thread. `progress` holds kProgressSlots doubles and is kept alive
  // until the run is over; `on_done` is called once with the packed result, on this environment's
  // JS thread. Returns the run id, or -errno.
  int64_t Start(Napi::Env env, const ChurnConfig& config, Napi::ArrayBuffer progress,
                Napi::Function on_done);
  // 0, or -ESRCH for an unknown (or finished) id.
  int Cancel(uint32_t id);

  // A listener on its own thread; the id, or -errno.
  int64_t Listen(const SockAddr& addr, int backlog);
  // nullptr for an unknown id.
  const ChurnListener* Listener(uint32_t id) const;
  // Stops and joins the accept thread and closes every descriptor: 0, or -ESRCH.
  int CloseListener(uint32_t id);

 private:
  struct Run;
  static void CallDone(napi_env env, napi_value on_done, void* context, void* data);
  static void Teardown(void* arg);

  PackResult pack_;
  std::map<uint32_t, std::unique_ptr<Run>> runs_;
  std::map<uint32_t, std::unique_ptr<ChurnListener>> listeners_;
  uint32_t next_id_ = 1;
};

}  // namespace safebind
