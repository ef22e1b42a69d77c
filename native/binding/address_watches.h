// The address watches of one environment (one main thread or worker) and their lifecycle: each
// watch's JS callback, its close(), and teardown at environment exit. The netlink socket itself is
// native/address_watch.cc (no N-API); this is the binding side. Node-API (napi_make_callback,
// napi_add_async_cleanup_hook), rtnetlink(7).
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "../netlink.h"

namespace safebind {

class AddressWatches {
 public:
  AddressWatches();
  ~AddressWatches();
  AddressWatches(const AddressWatches&) = delete;
  AddressWatches& operator=(const AddressWatches&) = delete;

  // watchAddresses(onChange) → { close() }, or -errno.
  Napi::Value Watch(const Napi::CallbackInfo& info);

 private:
  struct Entry;
  static void Notify(void* ctx);
  static void OnClosed(void* arg);
  static void Teardown(napi_async_cleanup_hook_handle hook, void* arg);
  void Erase(uint32_t id);
  void ReleaseHookWhenIdle();
  void Stop(Entry* entry);
  void Close(uint32_t id);

  std::vector<std::unique_ptr<Entry>> watches_;
  uint32_t next_id_ = 1;
  // While any watch is open or closing, an async cleanup hook holds the environment (and this
  // addon's code, which libuv's close callback runs) until the last close has completed.
  napi_async_cleanup_hook_handle hook_ = nullptr;
  size_t closing_ = 0;
};

}  // namespace safebind
