// netnsRead: a promise settled when the namespace's reader thread has exited. The worker runs on
// libuv's pool only to wait (pthread_join); the pool thread itself never enters a namespace.
// setns(2), sock_diag(7).
#include "netns_exports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <vector>

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
  o.Set("freshTimeWait", Napi::Number::New(env, g.fresh_time_wait));
  Napi::Uint32Array timers = Napi::Uint32Array::New(env, kTwBuckets);
  for (size_t i = 0; i < kTwBuckets; i++) timers[i] = g.time_wait_timers[i];
  o.Set("timeWaitTimers", timers);
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
    o.Set("walkMs", Napi::Number::New(env, result_.walk_ms));
    Napi::Array states = Napi::Array::New(env, kNlStates);
    for (uint32_t i = 0; i < kNlStates; i++)
      states.Set(i, Napi::Number::New(env, result_.states[i]));
    o.Set("states", states);
    Napi::Array top = Napi::Array::New(env, result_.top.size());
    for (size_t i = 0; i < result_.top.size(); i++)
      top.Set(static_cast<uint32_t>(i), GroupValue(env, result_.top[i]));
    o.Set("top", top);
    // Thousands of destinations: one typed array (per destination: the total, 16 states, the fresh
    // TIME_WAIT count, 60 timer buckets) instead of an object each, whose creation would cost more
    // than the walk.
    const size_t stride = 2 + kNlStates + kTwBuckets;
    Napi::Uint32Array dests = Napi::Uint32Array::New(env, result_.dests.size() * stride);
    uint32_t* d = dests.Data();
    for (size_t i = 0; i < result_.dests.size(); i++) {
      const NsGroup& g = result_.dests[i];
      uint32_t* row = d + i * stride;
      row[0] = g.total;
      memcpy(row + 1, g.counts, sizeof(g.counts));
      row[1 + kNlStates] = g.fresh_time_wait;
      memcpy(row + 2 + kNlStates, g.time_wait_timers, sizeof(g.time_wait_timers));
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

// Destinations packed by the caller, 19 bytes each: 4 or 6, the address (16 bytes, an IPv4 address
// in the first 4, a v4-mapped IPv6 already folded to IPv4), the port big-endian. Packed once per
// exporter rather than unpacked from thousands of objects at every scrape.
constexpr size_t kDestBytes = 19;

bool DestsArg(Napi::Value v, std::vector<NsDest>* out) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  if (t.TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
  size_t len = bytes.ElementLength();
  if (len % kDestBytes != 0) return false;
  const uint8_t* p = bytes.Data();
  out->reserve(len / kDestBytes);
  for (size_t at = 0; at < len; at += kDestBytes) {
    NsDest d;
    if (p[at] != 4 && p[at] != 6) return false;
    d.family = p[at] == 4 ? AF_INET : AF_INET6;
    memcpy(d.addr, p + at + 1, 16);
    d.port = static_cast<uint16_t>((p[at + 17] << 8) | p[at + 18]);
    out->push_back(d);
  }
  return true;
}

}  // namespace

Napi::Value NetnsReadExport(const Napi::CallbackInfo& info) {
  const char* usage =
      "safebind: netnsRead({ path, dests: Uint8Array (19 bytes each), top, files: [path], "
      "sinceMs? }) expected";
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
  Napi::Value since = obj.Get("sinceMs");
  if (!path.IsString() || !files.IsArray() || !top.IsNumber() ||
      !WholeIn(top.As<Napi::Number>().DoubleValue(), 0, 1e6)) {
    ThrowTypeError(env, usage);
    return env.Undefined();
  }
  if (!since.IsUndefined() &&
      (!since.IsNumber() || !(since.As<Napi::Number>().DoubleValue() >= 0) ||
       !(since.As<Napi::Number>().DoubleValue() <= 9e15))) {
    ThrowTypeError(env, usage);
    return env.Undefined();
  }
  NsReadQuery query;
  if (since.IsNumber()) query.since_ms = since.As<Napi::Number>().DoubleValue();
  query.path = path.As<Napi::String>().Utf8Value();
  if (query.path.empty()) {
    ThrowTypeError(env, usage);
    return env.Undefined();
  }
  query.top = top.As<Napi::Number>().Uint32Value();
  if (!DestsArg(dests, &query.dests)) {
    ThrowTypeError(env, usage);
    return env.Undefined();
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
