// Argument unpacking and result packing shared by the binding files (binding.cc and
// native/binding/*.cc, the only files that include the N-API header). Node-API; the addresses as
// sockaddr(3type) fields.
#include "args.h"

#include <math.h>

namespace safebind {

// A getter on an argument object can throw: its exception is then pending, and a second throw would
// be a fatal error (node-addon-api aborts the process). The first exception wins.
// Any N-API call can also start failing in the middle of an export when the environment is being
// torn down (worker.terminate() from another thread): the build defines
// NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS, so node-addon-api then drops the throw (the JS that
// would catch it will never run) instead of aborting the whole process in napi_throw.
void ThrowTypeError(Napi::Env env, const std::string& message) {
  if (env.IsExceptionPending()) return;
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
}

bool CheckArgs(const Napi::CallbackInfo& info, size_t count, const char* usage) {
  for (size_t i = 0; i < count; i++) {
    if (info.Length() <= i || info[i].IsUndefined()) {
      ThrowTypeError(info.Env(), usage);
      return false;
    }
  }
  return true;
}

// JavaScript truthiness. Not ToBoolean().Value(): when the environment is being torn down the
// coercion fails and yields a Boolean without an env, and reading that one is a fatal error.
bool Truthy(Napi::Env env, Napi::Value v) {
  napi_value b;
  bool out = false;
  if (v.IsEmpty() || napi_coerce_to_bool(env, v, &b) != napi_ok) return false;
  return napi_get_value_bool(env, b, &out) == napi_ok && out;
}

// True when v is a whole number within [lo, hi]: NaN, infinities and fractions fail.
bool WholeIn(double v, double lo, double hi) {
  return v >= lo && v <= hi && v == trunc(v);
}

// napi_get_value_int32 keeps the low 32 bits of a larger number and drops a fraction, so
// close(2 ** 32 + 1) would close descriptor 1: only exact 32-bit integers pass.
int32_t IntArg(const Napi::CallbackInfo& info, size_t i, bool* ok) {
  if (!info[i].IsNumber() ||
      !WholeIn(info[i].As<Napi::Number>().DoubleValue(), INT32_MIN, INT32_MAX)) {
    ThrowTypeError(info.Env(), "safebind: expected a 32-bit integer");
    *ok = false;
    return 0;
  }
  return info[i].As<Napi::Number>().Int32Value();
}

// A port crosses as a JS number; a cast to uint16_t would turn -1 into 65535 and 70000 into 4464,
// and NaN into 0 (an ephemeral port). Anything but a whole number in 0..65535 is refused.
bool PortValue(Napi::Env env, Napi::Value v, uint16_t* out) {
  if (!v.IsNumber() || !WholeIn(v.As<Napi::Number>().DoubleValue(), 0, 65535)) {
    ThrowTypeError(env, "safebind: a port must be an integer in 0-65535");
    return false;
  }
  *out = static_cast<uint16_t>(v.As<Napi::Number>().Uint32Value());
  return true;
}

// { family, address, port, scopeId } → SockAddr
bool SockAddrArg(const Napi::CallbackInfo& info, size_t i, SockAddr* out) {
  if (!info[i].IsObject()) {
    ThrowTypeError(info.Env(), "safebind: expected { family, address, port, scopeId }");
    return false;
  }
  Napi::Object obj = info[i].As<Napi::Object>();
  Napi::Value family = obj.Get("family");
  Napi::Value address = obj.Get("address");
  Napi::Value port = obj.Get("port");
  Napi::Value scope = obj.Get("scopeId");
  if (!family.IsNumber() || !address.IsString() || !port.IsNumber()) {
    ThrowTypeError(info.Env(), "safebind: expected { family, address, port, scopeId }");
    return false;
  }
  if (!PortValue(info.Env(), port, &out->port)) return false;
  if (!(scope.IsUndefined() ||
        (scope.IsNumber() && WholeIn(scope.As<Napi::Number>().DoubleValue(), 0, UINT32_MAX)))) {
    ThrowTypeError(info.Env(), "safebind: scopeId must be an integer in 0-4294967295");
    return false;
  }
  out->family = family.As<Napi::Number>().Int32Value();
  out->address = address.As<Napi::String>().Utf8Value();
  out->scope_id = scope.IsNumber() ? scope.As<Napi::Number>().Uint32Value() : 0;
  return true;
}

Napi::Object SockAddrValue(Napi::Env env, const SockAddr& addr) {
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("family", addr.family);
  obj.Set("address", addr.address);
  obj.Set("port", addr.port);
  obj.Set("scopeId", addr.scope_id);
  return obj;
}

}  // namespace safebind
