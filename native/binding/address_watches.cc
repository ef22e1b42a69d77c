// The address watches of one environment and their lifecycle (see address_watches.h).
#include "address_watches.h"

#include <errno.h>

#include "args.h"

namespace safebind {

// Per-environment address watches, keyed by an id the JS close() carries, so a second close()
// (or one after teardown closed everything) finds nothing and does nothing.
struct AddressWatches::Entry {
  AddressWatches* owner = nullptr;
  uint32_t id = 0;
  napi_env env = nullptr;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  AddressWatch* watch = nullptr;
  // The JS callback may close its own watch: the entry (and the async context the callback runs
  // in) must outlive that call, so a close from inside it only stops the watch, and the entry is
  // released when the callback returns.
  bool in_callback = false;
  bool stopped = false;
};

AddressWatches::AddressWatches() = default;
// Teardown (the async cleanup hook) has closed every watch before the addon goes.
AddressWatches::~AddressWatches() = default;

Napi::Value AddressWatches::Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    ThrowTypeError(env, "watchAddresses(onChange): onChange must be a function");
    return env.Undefined();
  }
  uv_loop_s* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return Napi::Number::New(env, -ENOTSUP);
  auto entry = std::make_unique<Entry>();
  entry->owner = this;
  entry->id = next_id_++;
  entry->env = env;
  entry->callback = Napi::Persistent(info[0].As<Napi::Function>());
  entry->context = std::make_unique<Napi::AsyncContext>(env, "safebind:watchAddresses");
  int rc = address_watch_start(loop, Notify, entry.get(), &entry->watch);
  if (rc < 0) return Napi::Number::New(env, rc);
  if (hook_ == nullptr && napi_add_async_cleanup_hook(env, Teardown, this, &hook_) != napi_ok) {
    hook_ = nullptr;
    Stop(entry.get());
    return Napi::Number::New(env, -ENOMEM);
  }
  uint32_t id = entry->id;
  watches_.push_back(std::move(entry));
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("close", Napi::Function::New(
                          env,
                          [this, id](const Napi::CallbackInfo& call) {
                            Close(id);
                            return call.Env().Undefined();
                          },
                          "close"));
  return handle;
}

// Runs on the JS thread from the libuv poll callback: a JS call with its async context.
void AddressWatches::Notify(void* ctx) {
  auto* entry = static_cast<Entry*>(ctx);
  Napi::Env env(entry->env);
  Napi::HandleScope scope(env);
  if (entry->stopped) return;
  Napi::Function fn = entry->callback.Value();
  entry->in_callback = true;
  // napi_make_callback converts the receiver to an object: undefined would throw.
  fn.MakeCallback(env.Global(), {}, *entry->context);
  entry->in_callback = false;
  if (env.IsExceptionPending()) {
    Napi::Error error = env.GetAndClearPendingException();
    napi_fatal_exception(env, error.Value());
  }
  if (entry->stopped) entry->owner->Erase(entry->id);
}

void AddressWatches::Erase(uint32_t id) {
  auto it = watches_.begin();
  while (it != watches_.end() && (*it)->id != id) ++it;
  if (it == watches_.end()) return;
  watches_.erase(it);
  ReleaseHookWhenIdle();
}

void AddressWatches::OnClosed(void* arg) {
  auto* self = static_cast<AddressWatches*>(arg);
  self->closing_--;
  self->ReleaseHookWhenIdle();
}

void AddressWatches::ReleaseHookWhenIdle() {
  if (!watches_.empty() || closing_ > 0 || hook_ == nullptr) return;
  napi_async_cleanup_hook_handle hook = hook_;
  hook_ = nullptr;
  napi_remove_async_cleanup_hook(hook);
}

void AddressWatches::Stop(Entry* entry) {
  if (entry->stopped) return;
  entry->stopped = true;
  closing_++;
  address_watch_stop(entry->watch, OnClosed, this);
}

void AddressWatches::Close(uint32_t id) {
  auto it = watches_.begin();
  while (it != watches_.end() && (*it)->id != id) ++it;
  if (it == watches_.end()) return;
  Stop(it->get());
  if (!(*it)->in_callback) Erase(id);
}

// Environment teardown (worker exit, process exit): closes what JS left open, then lets the
// environment go once libuv has run every close callback.
void AddressWatches::Teardown(napi_async_cleanup_hook_handle /*hook*/, void* arg) {
  auto* self = static_cast<AddressWatches*>(arg);
  for (auto& entry : self->watches_) self->Stop(entry.get());
  self->watches_.clear();
  self->ReleaseHookWhenIdle();
}

}  // namespace safebind
