// netnsRead: a promise settled when the namespace's reader thread has exited. The worker runs on
// libuv's pool only to wait (pthread_join); the pool thread itself never enters a namespace.
// setns(2), sock_diag(7).
#include "netns_exports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../netns_read.h"
#include "args.h"

namespace safebind {
namespace {

Napi::Object GroupValue(Napi::Env env, const NsGroup& g) {
  Napi::Object o = Napi::Object::New(env);
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(g.dest.family, g.dest.addr, text, sizeof(text));
  o.Set("family", g.dest.family == AF_INET6 ? 6 : 4);
  o.Set("address", text);
  o.Set("port", g.dest.port);
  o.Set("total", Napi::Number::New(env, g.total));
  Napi::Array counts = Napi::Array::New(env, kNlStates);
  for (uint32_t i = 0; i < kNlStates; i++) counts.Set(i, Napi::Number::New(env, g.counts[i]));
  o.Set("counts", counts);
  return o;
}

class NetnsReadWorker : public Napi::AsyncWorker {
 public:
  NetnsReadWorker(Napi::Env env, NsReadQuery query)
      : Napi::AsyncWorker(env, "safebind:netnsRead"),
        deferred_(Napi::Promise::Deferred::New(env)),
        query_(std::move(query)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { rc_ = ns_read(query_, &result_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ < 0) {
      deferred_.Resolve(Napi::Number::New(env, rc_));
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("openRc", result_.open_rc);
    o.Set("setnsRc", result_.setns_rc);
    o.Set("inode", Napi::Number::New(env, static_cast<double>(result_.inode)));
    o.Set("diagRc", result_.diag_rc);
    Napi::Array states = Napi::Array::New(env, kNlStates);
    for (uint32_t i = 0; i < kNlStates; i++)
      states.Set(i, Napi::Number::New(env, result_.states[i]));
    o.Set("states", states);
    Napi::Array top = Napi::Array::New(env, result_.top.size());
    for (size_t i = 0; i < result_.top.size(); i++)
      top.Set(static_cast<uint32_t>(i), GroupValue(env, result_.top[i]));
    o.Set("top", top);
    // Thousands of destinations: one typed array (total, then 16 states, per destination) instead
    // of an object each, whose creation would cost more than the walk.
    const size_t stride = 1 + kNlStates;
    Napi::Uint32Array dests = Napi::Uint32Array::New(env, result_.dests.size() * stride);
    for (size_t i = 0; i < result_.dests.size(); i++) {
      dests[i * stride] = result_.dests[i].total;
      for (size_t s = 0; s < kNlStates; s++) dests[i * stride + 1 + s] = result_.dests[i].counts[s];
    }
    o.Set("dests", dests);
    Napi::Array files = Napi::Array::New(env, result_.files.size());
    for (size_t i = 0; i < result_.files.size(); i++) {
      Napi::Object f = Napi::Object::New(env);
      f.Set("rc", result_.files[i].rc);
      f.Set("text", result_.files[i].text);
      files.Set(static_cast<uint32_t>(i), f);
    }
    o.Set("files", files);
    deferred_.Resolve(o);
  }

 private:
  Napi::Promise::Deferred deferred_;
  NsReadQuery query_;
  NsReadResult result_;
  int rc_ = 0;
};

bool DestArg(Napi::Value v, NsDest* out) {
  if (!v.IsObject()) return false;
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value address = o.Get("address");
  Napi::Value port = o.Get("port");
  if (!address.IsString() || !port.IsNumber() ||
      !WholeIn(port.As<Napi::Number>().DoubleValue(), 0, 65535))
    return false;
  std::string text = address.As<Napi::String>().Utf8Value();
  out->port = static_cast<uint16_t>(port.As<Napi::Number>().Uint32Value());
  if (inet_pton(AF_INET, text.c_str(), out->addr) == 1) {
    out->family = AF_INET;
    return true;
  }
  uint8_t v6[16];
  if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return false;
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (memcmp(v6, mapped, 12) == 0) {
    out->family = AF_INET;
    memcpy(out->addr, v6 + 12, 4);
  } else {
    out->family = AF_INET6;
    memcpy(out->addr, v6, 16);
  }
  return true;
}

}  // namespace

Napi::Value NetnsReadExport(const Napi::CallbackInfo& info) {
  const char* usage =
      "safebind: netnsRead({ path, dests: [{ address, port }], top, files: [path] }) expected";
  Napi::Env env = info.Env();
  if (!CheckArgs(info, 1, usage)) return env.Undefined();
  if (!info[0].IsObject()) {
    ThrowTypeError(env, usage);
    return env.Undefined();
  }
  Napi::Object obj = info[0].As<Napi::Object>();
  Napi::Value path = obj.Get("path");
  Napi::Value dests = obj.Get("dests");
  Napi::Value top = obj.Get("top");
  Napi::Value files = obj.Get("files");
  if (!path.IsString() || !dests.IsArray() || !files.IsArray() || !top.IsNumber() ||
      !WholeIn(top.As<Napi::Number>().DoubleValue(), 0, 1e6)) {
    ThrowTypeError(env, usage);
    return env.Undefined();
  }
  NsReadQuery query;
  query.path = path.As<Napi::String>().Utf8Value();
  if (query.path.empty()) {
    ThrowTypeError(env, usage);
    return env.Undefined();
  }
  query.top = top.As<Napi::Number>().Uint32Value();
  Napi::Array d = dests.As<Napi::Array>();
  for (uint32_t i = 0; i < d.Length(); i++) {
    NsDest dest;
    if (!DestArg(d.Get(i), &dest)) {
      ThrowTypeError(env, usage);
      return env.Undefined();
    }
    query.dests.push_back(dest);
  }
  Napi::Array f = files.As<Napi::Array>();
  for (uint32_t i = 0; i < f.Length(); i++) {
    Napi::Value file = f.Get(i);
    if (!file.IsString()) {
      ThrowTypeError(env, usage);
      return env.Undefined();
    }
    query.files.push_back(file.As<Napi::String>().Utf8Value());
  }
  auto* worker = new NetnsReadWorker(env, std::move(query));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace safebind
