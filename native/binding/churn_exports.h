// The churn exports of the addon: argument unpacking and result packing, over the environment's
// registry of runs and listeners (churn_runs.h). The churn engine runs on threads of its own
// (native/bench/churn.h); these only start, stop and read it. A run reports back once, through a
// threadsafe function, on the JS thread. Node-API.
#pragma once

#include <napi.h>

#include "churn_runs.h"

namespace safebind {

class ChurnExports {
 public:
  ChurnExports();
  // churnStart(options, progress: ArrayBuffer, onDone(result)) → run id, or -errno.
  Napi::Value Start(const Napi::CallbackInfo& info);
  // churnCancel(id) → 0, or -ESRCH.
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  // churnListen(addr, backlog) → listener id, or -errno.
  Napi::Value Listen(const Napi::CallbackInfo& info);
  // churnListenerStats(id) → { port, accepted, open }, or -ESRCH.
  Napi::Value ListenerStats(const Napi::CallbackInfo& info);
  // churnListenerClose(id) → 0, or -ESRCH.
  Napi::Value ListenerClose(const Napi::CallbackInfo& info);

 private:
  ChurnRuns runs_;
};

}  // namespace safebind
