// Argument unpacking and result packing of the churn exports (churnStart, churnCancel,
// churnListen, churnListenerStats, churnListenerClose). The engine is native/bench (no N-API); its
// runs' lifecycle is churn_runs.cc. Node-API.
#include "churn_exports.h"

#include <errno.h>
#include <math.h>

#include "args.h"

namespace safebind {
namespace {

// Each connect in flight holds a slot and an epoll event; far past the open-files limit a number
// only asks for memory (a vector of 10^12 slots aborts the process with bad_alloc).
constexpr double kMaxChurnConcurrency = 1 << 20;

bool ChurnTypeError(Napi::Env env, const std::string& message) {
  ThrowTypeError(env, "churnStart: " + message);
  return false;
}
bool ChurnBool(const Napi::Object& o, const char* key) {
  return Truthy(o.Env(), o.Get(key));
}
// A non-negative amount of `key` times `scale`: absent → 0; +Infinity, or more than 64 bits hold,
// → 0, which the engine reads as "no limit". A cast of NaN, a negative or an overflowing double
// to an unsigned integer is undefined behaviour, so those are refused.
bool ChurnAmount(Napi::Env env, const Napi::Object& o, const char* key, double scale,
                 uint64_t* out) {
  Napi::Value v = o.Get(key);
  *out = 0;
  if (v.IsUndefined()) return true;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() * scale : NAN;
  if (!(d >= 0)) return ChurnTypeError(env, std::string(key) + " must be a number >= 0");
  if (d < 18446744073709551616.0) *out = static_cast<uint64_t>(d);  // 2^64
  return true;
}
bool ChurnPort(Napi::Env env, const Napi::Object& o, const char* key, uint16_t* out) {
  Napi::Value v = o.Get(key);
  *out = 0;
  return v.IsUndefined() || PortValue(env, v, out);
}
// { family, address, port?, scopeId? } → SockAddr; each property read once.
bool ChurnAddr(Napi::Env env, Napi::Value v, SockAddr* out, const char* what) {
  const std::string usage = std::string(what) + " must be { family, address, port?, scopeId? }";
  if (!v.IsObject()) return ChurnTypeError(env, usage);
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value family = o.Get("family");
  Napi::Value address = o.Get("address");
  Napi::Value scope = o.Get("scopeId");
  if (!family.IsNumber() || !address.IsString()) return ChurnTypeError(env, usage);
  if (!ChurnPort(env, o, "port", &out->port)) return false;
  if (!(scope.IsUndefined() ||
        (scope.IsNumber() && WholeIn(scope.As<Napi::Number>().DoubleValue(), 0, UINT32_MAX))))
    return ChurnTypeError(env, usage);
  out->family = family.As<Napi::Number>().Int32Value();
  out->address = address.As<Napi::String>().Utf8Value();
  out->scope_id = scope.IsNumber() ? scope.As<Napi::Number>().Uint32Value() : 0;
  return true;
}

// nullptr when the environment is going away and can no longer make the result.
napi_value ChurnResultValue(Napi::Env env, const ChurnResult& r) {
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("attempts", static_cast<double>(r.attempts));
  obj.Set("connects", static_cast<double>(r.connects));
  obj.Set("errors", static_cast<double>(r.errors));
  obj.Set("elapsedNs", static_cast<double>(r.elapsed_ns));
  obj.Set("cancelled", r.cancelled);
  obj.Set("latencyMaxNs", static_cast<double>(r.latency_max_ns));
  obj.Set("latencyMinNs", static_cast<double>(r.latency_min_ns));
  size_t used = 0;
  for (uint64_t n : r.latency) used += n ? 1 : 0;
  Napi::Float64Array latency = Napi::Float64Array::New(env, used * 2);
  if (latency.IsEmpty() || env.IsExceptionPending()) return nullptr;
  size_t k = 0;
  for (uint32_t i = 0; i < r.latency.size(); i++) {
    if (!r.latency[i]) continue;
    latency[k++] = static_cast<double>(latency_bucket_mid(i));
    latency[k++] = static_cast<double>(r.latency[i]);
  }
  obj.Set("latency", latency);
  Napi::Array errnos = Napi::Array::New(env);
  uint32_t e = 0;
  for (int i = 0; i < kMaxErrno; i++) {
    if (!r.errno_counts[i]) continue;
    Napi::Object pair = Napi::Object::New(env);
    pair.Set("errno", i);
    pair.Set("count", static_cast<double>(r.errno_counts[i]));
    errnos.Set(e++, pair);
  }
  obj.Set("errnos", errnos);
  if (r.setup_error) {
    Napi::Object setup = Napi::Object::New(env);
    setup.Set("errno", -r.setup_error);
    setup.Set("syscall", r.setup_syscall);
    obj.Set("setupError", setup);
  }
  if (r.first_failure.present) {
    const ChurnFailure& f = r.first_failure;
    Napi::Object ff = Napi::Object::New(env);
    ff.Set("errno", f.error);
    ff.Set("syscall", f.syscall);
    ff.Set("attempt", static_cast<double>(f.attempt));
    ff.Set("atNs", static_cast<double>(f.at_ns));
    ff.Set("local", SockAddrValue(env, f.local));
    ff.Set("remote", SockAddrValue(env, f.remote));
    obj.Set("firstFailure", ff);
  }
  return obj;
}

}  // namespace

ChurnExports::ChurnExports() : runs_(&ChurnResultValue) {}

// churnStart(options, progress: ArrayBuffer, onDone(result)) → run id, or -errno.
Napi::Value ChurnExports::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "churnStart(options, progress: ArrayBuffer, onDone: Function)";
  if (!CheckArgs(info, 3, usage)) return env.Undefined();
  if (!info[0].IsObject() || !info[1].IsArrayBuffer() || !info[2].IsFunction()) {
    ThrowTypeError(env, usage);
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::ArrayBuffer progress = info[1].As<Napi::ArrayBuffer>();
  ChurnConfig config;
  if (!ChurnAddr(env, o.Get("target"), &config.target, "options.target")) return env.Undefined();
  Napi::Value sources = o.Get("sources");
  if (sources.IsArray()) {
    Napi::Array list = sources.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      SockAddr src;
      if (!ChurnAddr(env, list.Get(i), &src, "options.sources[]")) return env.Undefined();
      config.sources.push_back(src);
    }
  }
  if (progress.ByteLength() < kProgressSlots * sizeof(double)) {
    ThrowTypeError(env, "churnStart: progress must hold 5 doubles");
    return env.Undefined();
  }
  config.linger0 = ChurnBool(o, "linger0");
  config.bind_no_port = ChurnBool(o, "bindNoPort");
  config.stop_on_error = ChurnBool(o, "stopOnError");
  Napi::Value concurrency = o.Get("concurrency");
  if (!concurrency.IsUndefined()) {
    if (!concurrency.IsNumber() ||
        !WholeIn(concurrency.As<Napi::Number>().DoubleValue(), 1, kMaxChurnConcurrency)) {
      ChurnTypeError(env, "concurrency must be an integer in 1-1048576");
      return env.Undefined();
    }
    config.concurrency = concurrency.As<Napi::Number>().Uint32Value();
  }
  if (!ChurnPort(env, o, "portLo", &config.port_lo) ||
      !ChurnPort(env, o, "portHi", &config.port_hi) ||
      !ChurnAmount(env, o, "count", 1, &config.count) ||
      !ChurnAmount(env, o, "durationMs", 1e6, &config.duration_ns) ||
      !ChurnAmount(env, o, "timeoutMs", 1e6, &config.timeout_ns))
    return env.Undefined();

  int64_t id = runs_.Start(env, config, progress, info[2].As<Napi::Function>());
  return Napi::Number::New(env, static_cast<double>(id));
}

Napi::Value ChurnExports::Cancel(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 1, "churnCancel(id)")) return info.Env().Undefined();
  bool ok = true;
  int id = IntArg(info, 0, &ok);
  if (!ok) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), runs_.Cancel(static_cast<uint32_t>(id)));
}

// churnListen(addr, backlog) → listener id, or -errno.
Napi::Value ChurnExports::Listen(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 2, "churnListen(addr, backlog)")) return info.Env().Undefined();
  SockAddr addr;
  if (!SockAddrArg(info, 0, &addr)) return info.Env().Undefined();
  bool ok = true;
  int backlog = IntArg(info, 1, &ok);
  if (!ok) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(runs_.Listen(addr, backlog)));
}

// churnListenerStats(id) → { port, accepted, open }, or -ESRCH.
Napi::Value ChurnExports::ListenerStats(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 1, "churnListenerStats(id)")) return info.Env().Undefined();
  bool ok = true;
  int id = IntArg(info, 0, &ok);
  if (!ok) return info.Env().Undefined();
  const ChurnListener* listener = runs_.Listener(static_cast<uint32_t>(id));
  if (listener == nullptr) return Napi::Number::New(info.Env(), -ESRCH);
  Napi::Object obj = Napi::Object::New(info.Env());
  obj.Set("port", listener->port());
  obj.Set("accepted", static_cast<double>(listener->accepted()));
  obj.Set("open", static_cast<double>(listener->open()));
  return obj;
}

Napi::Value ChurnExports::ListenerClose(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 1, "churnListenerClose(id)")) return info.Env().Undefined();
  bool ok = true;
  int id = IntArg(info, 0, &ok);
  if (!ok) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), runs_.CloseListener(static_cast<uint32_t>(id)));
}

}  // namespace safebind
