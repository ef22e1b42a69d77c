// The only file that includes the N-API header: argument unpacking, result packing, and the export
// table. Every errno crosses to JavaScript as a negative number; nothing here throws for errno.
// Programmer errors (wrong argument types) throw a TypeError, which the TypeScript layer never
// lets through from user input.
#include <math.h>
#include <napi.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include "churn.h"
#include "churn_runs.h"
#include "netlink.h"
#include "sys.h"

namespace safebind {
namespace {

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

}  // namespace

class SafebindAddon : public Napi::Addon<SafebindAddon> {
 public:
  SafebindAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports,
                {
                    InstanceValue("constants", Constants(env), napi_enumerable),
                    InstanceMethod("socket", &SafebindAddon::Socket),
                    InstanceMethod("close", &SafebindAddon::Close),
                    InstanceMethod("setIntOption", &SafebindAddon::SetIntOption),
                    InstanceMethod("getIntOption", &SafebindAddon::GetIntOption),
                    InstanceMethod("setLinger", &SafebindAddon::SetLinger),
                    InstanceMethod("getLinger", &SafebindAddon::GetLinger),
                    InstanceMethod("setDevice", &SafebindAddon::SetDevice),
                    InstanceMethod("getDevice", &SafebindAddon::GetDevice),
                    InstanceMethod("setLocalPortRange", &SafebindAddon::SetLocalPortRange),
                    InstanceMethod("getLocalPortRange", &SafebindAddon::GetLocalPortRange),
                    InstanceMethod("bind", &SafebindAddon::Bind),
                    InstanceMethod("listen", &SafebindAddon::Listen),
                    InstanceMethod("connect", &SafebindAddon::Connect),
                    InstanceMethod("socketError", &SafebindAddon::SocketError),
                    InstanceMethod("getsockname", &SafebindAddon::GetSockName),
                    InstanceMethod("getpeername", &SafebindAddon::GetPeerName),
                    InstanceMethod("unshareNet", &SafebindAddon::UnshareNet),
                    InstanceMethod("ifNameToIndex", &SafebindAddon::IfNameToIndex),
                    InstanceMethod("ifIndexToName", &SafebindAddon::IfIndexToName),
                    InstanceMethod("interfaces", &SafebindAddon::Interfaces),
                    // --- netlink exports (addresses, sock_diag, route, watch) ---
                    InstanceMethod("addresses", &SafebindAddon::Addresses),
                    InstanceMethod("socketCounts", &SafebindAddon::SocketCounts),
                    InstanceMethod("socketList", &SafebindAddon::SocketList),
                    InstanceMethod("routeGet", &SafebindAddon::RouteGet),
                    InstanceMethod("watchAddresses", &SafebindAddon::WatchAddresses),
                    // --- end netlink exports ---
                    // --- churn exports ---
                    InstanceMethod("churnStart", &SafebindAddon::ChurnStart),
                    InstanceMethod("churnCancel", &SafebindAddon::ChurnCancel),
                    InstanceMethod("churnListen", &SafebindAddon::ChurnListen),
                    InstanceMethod("churnListenerStats", &SafebindAddon::ChurnListenerStats),
                    InstanceMethod("churnListenerClose", &SafebindAddon::ChurnListenerClose),
                    // --- end churn exports ---
                });
  }

 private:
  static Napi::Object Constants(Napi::Env env) {
    Napi::Object c = Napi::Object::New(env);
    c.Set("AF_UNSPEC", static_cast<int>(AF_UNSPEC));
    c.Set("AF_INET", static_cast<int>(AF_INET));
    c.Set("AF_INET6", static_cast<int>(AF_INET6));
    c.Set("SOCK_STREAM", static_cast<int>(SOCK_STREAM));
    c.Set("SOCK_DGRAM", static_cast<int>(SOCK_DGRAM));
    c.Set("SOL_SOCKET", static_cast<int>(SOL_SOCKET));
    c.Set("IPPROTO_IP", static_cast<int>(IPPROTO_IP));
    c.Set("IPPROTO_IPV6", static_cast<int>(IPPROTO_IPV6));
    c.Set("IPPROTO_TCP", static_cast<int>(IPPROTO_TCP));
    c.Set("IPPROTO_UDP", static_cast<int>(IPPROTO_UDP));
    c.Set("SO_REUSEADDR", static_cast<int>(SO_REUSEADDR));
    c.Set("SO_REUSEPORT", static_cast<int>(SO_REUSEPORT));
    c.Set("SO_BINDTODEVICE", static_cast<int>(SO_BINDTODEVICE));
    c.Set("SO_LINGER", static_cast<int>(SO_LINGER));
    c.Set("SO_ERROR", static_cast<int>(SO_ERROR));
    c.Set("SO_RCVBUF", static_cast<int>(SO_RCVBUF));
    c.Set("SO_SNDBUF", static_cast<int>(SO_SNDBUF));
    c.Set("IP_FREEBIND", static_cast<int>(IP_FREEBIND));
    c.Set("IP_TRANSPARENT", static_cast<int>(IP_TRANSPARENT));
    c.Set("IP_BIND_ADDRESS_NO_PORT", static_cast<int>(IP_BIND_ADDRESS_NO_PORT));
    c.Set("IP_LOCAL_PORT_RANGE", static_cast<int>(IP_LOCAL_PORT_RANGE));
    c.Set("IPV6_FREEBIND", static_cast<int>(IPV6_FREEBIND));
    c.Set("IPV6_V6ONLY", static_cast<int>(IPV6_V6ONLY));
    // --- netlink constants ---
    c.Set("addressFlags", NlTable(env, nl_address_flags));
    c.Set("linkFlags", NlTable(env, nl_link_flags));
    c.Set("scopes", NlTable(env, nl_scopes));
    c.Set("tcpStates", NlTable(env, nl_tcp_states));
    c.Set("routeTypes", NlTable(env, nl_route_types));
    // --- end netlink constants ---
    return c;
  }

  Napi::Value Socket(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "socket(family, type)")) return info.Env().Undefined();
    bool ok = true;
    int family = IntArg(info, 0, &ok);
    int type = ok ? IntArg(info, 1, &ok) : 0;
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_socket(family, type));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "close(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_close(fd));
  }

  Napi::Value SetIntOption(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 4, "setIntOption(fd, level, name, value)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    int level = ok ? IntArg(info, 1, &ok) : 0;
    int name = ok ? IntArg(info, 2, &ok) : 0;
    int value = ok ? IntArg(info, 3, &ok) : 0;
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_set_int(fd, level, name, value));
  }

  Napi::Value GetIntOption(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 3, "getIntOption(fd, level, name)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    int level = ok ? IntArg(info, 1, &ok) : 0;
    int name = ok ? IntArg(info, 2, &ok) : 0;
    if (!ok) return info.Env().Undefined();
    int value = 0;
    int rc = sys_get_int(fd, level, name, &value);
    return Napi::Number::New(info.Env(), rc < 0 ? rc : value);
  }

  Napi::Value SetLinger(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 3, "setLinger(fd, on, seconds)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    int seconds = ok ? IntArg(info, 2, &ok) : 0;
    if (!ok) return info.Env().Undefined();
    bool on = Truthy(info.Env(), info[1]);
    return Napi::Number::New(info.Env(), sys_set_linger(fd, on, seconds));
  }

  Napi::Value GetLinger(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "getLinger(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    bool on = false;
    int seconds = 0;
    int rc = sys_get_linger(fd, &on, &seconds);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    Napi::Object obj = Napi::Object::New(info.Env());
    obj.Set("on", on);
    obj.Set("seconds", seconds);
    return obj;
  }

  Napi::Value SetDevice(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "setDevice(fd, name)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    if (!info[1].IsString()) {
      ThrowTypeError(info.Env(), "setDevice(fd, name): name must be a string");
      return info.Env().Undefined();
    }
    return Napi::Number::New(info.Env(), sys_set_device(fd, info[1].As<Napi::String>()));
  }

  Napi::Value GetDevice(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "getDevice(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    std::string name;
    int rc = sys_get_device(fd, &name);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    return Napi::String::New(info.Env(), name);
  }

  Napi::Value SetLocalPortRange(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 3, "setLocalPortRange(fd, lo, hi)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    uint16_t lo = 0, hi = 0;
    if (!ok || !PortValue(info.Env(), info[1], &lo) || !PortValue(info.Env(), info[2], &hi))
      return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_set_local_port_range(fd, lo, hi));
  }

  Napi::Value GetLocalPortRange(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "getLocalPortRange(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    uint16_t lo = 0, hi = 0;
    int rc = sys_get_local_port_range(fd, &lo, &hi);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    Napi::Array range = Napi::Array::New(info.Env(), 2);
    range.Set(0u, Napi::Number::New(info.Env(), lo));
    range.Set(1u, Napi::Number::New(info.Env(), hi));
    return range;
  }

  Napi::Value Bind(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "bind(fd, addr)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    SockAddr addr;
    if (!ok || !SockAddrArg(info, 1, &addr)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_bind(fd, addr));
  }

  Napi::Value Listen(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "listen(fd, backlog)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    int backlog = ok ? IntArg(info, 1, &ok) : 0;
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_listen(fd, backlog));
  }

  Napi::Value Connect(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "connect(fd, addr)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    SockAddr addr;
    if (!ok || !SockAddrArg(info, 1, &addr)) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_connect(fd, addr));
  }

  Napi::Value SocketError(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "socketError(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    int error = 0;
    int rc = sys_socket_error(fd, &error);
    return Napi::Number::New(info.Env(), rc < 0 ? rc : error);
  }

  Napi::Value GetSockName(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "getsockname(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    SockAddr addr;
    int rc = sys_getsockname(fd, &addr);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    return SockAddrValue(info.Env(), addr);
  }

  Napi::Value GetPeerName(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "getpeername(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    SockAddr addr;
    int rc = sys_getpeername(fd, &addr);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    return SockAddrValue(info.Env(), addr);
  }

  Napi::Value UnshareNet(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), sys_unshare_net());
  }

  Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsString()) {
      ThrowTypeError(info.Env(), "ifNameToIndex(name): name must be a string");
      return info.Env().Undefined();
    }
    return Napi::Number::New(info.Env(), sys_if_nametoindex(info[0].As<Napi::String>()));
  }

  Napi::Value IfIndexToName(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "ifIndexToName(index)")) return info.Env().Undefined();
    bool ok = true;
    int index = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    if (index <= 0) return Napi::Number::New(info.Env(), -ENXIO);
    std::string name;
    int rc = sys_if_indextoname(static_cast<uint32_t>(index), &name);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    return Napi::String::New(info.Env(), name);
  }

  Napi::Value Interfaces(const Napi::CallbackInfo& info) {
    std::vector<std::pair<uint32_t, std::string>> list;
    int rc = sys_if_nameindex(&list);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    Napi::Array out = Napi::Array::New(info.Env(), list.size());
    for (size_t i = 0; i < list.size(); i++) {
      Napi::Object entry = Napi::Object::New(info.Env());
      entry.Set("index", list[i].first);
      entry.Set("name", list[i].second);
      out.Set(static_cast<uint32_t>(i), entry);
    }
    return out;
  }

  // --- netlink methods ---
  static Napi::Object NlTable(Napi::Env env, const NlConstant* (*table)(size_t*)) {
    size_t count = 0;
    const NlConstant* entries = table(&count);
    Napi::Object obj = Napi::Object::New(env);
    for (size_t i = 0; i < count; i++)
      obj.Set(entries[i].name, Napi::Number::New(env, entries[i].value));
    return obj;
  }

  // Per-environment address watches, keyed by an id the JS close() carries, so a second close()
  // (or one after teardown closed everything) finds nothing and does nothing.
  struct WatchEntry {
    SafebindAddon* addon = nullptr;
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
  std::vector<std::unique_ptr<WatchEntry>> watches_;
  uint32_t next_watch_id_ = 1;

  // Runs on the JS thread from the libuv poll callback: a JS call with its async context.
  static void NotifyWatch(void* ctx) {
    auto* entry = static_cast<WatchEntry*>(ctx);
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
    if (entry->stopped) entry->addon->EraseWatch(entry->id);
  }

  void EraseWatch(uint32_t id) {
    auto it = watches_.begin();
    while (it != watches_.end() && (*it)->id != id) ++it;
    if (it == watches_.end()) return;
    watches_.erase(it);
    ReleaseWatchHookWhenIdle();
  }

  // While any watch is open or closing, an async cleanup hook holds the environment (and this
  // addon's code, which libuv's close callback runs) until the last close has completed.
  napi_async_cleanup_hook_handle watch_hook_ = nullptr;
  size_t watches_closing_ = 0;

  static void OnWatchClosed(void* arg) {
    auto* self = static_cast<SafebindAddon*>(arg);
    self->watches_closing_--;
    self->ReleaseWatchHookWhenIdle();
  }

  void ReleaseWatchHookWhenIdle() {
    if (!watches_.empty() || watches_closing_ > 0 || watch_hook_ == nullptr) return;
    napi_async_cleanup_hook_handle hook = watch_hook_;
    watch_hook_ = nullptr;
    napi_remove_async_cleanup_hook(hook);
  }

  void StopWatch(WatchEntry* entry) {
    if (entry->stopped) return;
    entry->stopped = true;
    watches_closing_++;
    address_watch_stop(entry->watch, OnWatchClosed, this);
  }

  void CloseWatch(uint32_t id) {
    auto it = watches_.begin();
    while (it != watches_.end() && (*it)->id != id) ++it;
    if (it == watches_.end()) return;
    StopWatch(it->get());
    if (!(*it)->in_callback) EraseWatch(id);
  }

  // Environment teardown (worker exit, process exit): closes what JS left open, then lets the
  // environment go once libuv has run every close callback.
  static void TeardownWatches(napi_async_cleanup_hook_handle /*hook*/, void* arg) {
    auto* self = static_cast<SafebindAddon*>(arg);
    for (auto& entry : self->watches_) self->StopWatch(entry.get());
    self->watches_.clear();
    self->ReleaseWatchHookWhenIdle();
  }

  static bool NlEndpointArg(Napi::Value value, NlEndpoint* out) {
    if (value.IsUndefined()) return true;
    if (!value.IsObject()) return false;
    Napi::Object obj = value.As<Napi::Object>();
    Napi::Value address = obj.Get("address");
    Napi::Value port = obj.Get("port");
    if (!address.IsUndefined()) {
      if (!address.IsString()) return false;
      out->address = address.As<Napi::String>().Utf8Value();
    }
    if (!port.IsUndefined()) {
      if (!port.IsNumber() || !WholeIn(port.As<Napi::Number>().DoubleValue(), 0, 65535))
        return false;
      out->port = static_cast<uint16_t>(port.As<Napi::Number>().Uint32Value());
    }
    return true;
  }

  static bool NlSockQueryArg(const Napi::CallbackInfo& info, size_t i, NlSockQuery* q) {
    const char* usage = "safebind: expected { protocol, family, states, dst?, src? }";
    if (!info[i].IsObject()) {
      ThrowTypeError(info.Env(), usage);
      return false;
    }
    Napi::Object obj = info[i].As<Napi::Object>();
    Napi::Value protocol = obj.Get("protocol");
    Napi::Value family = obj.Get("family");
    Napi::Value states = obj.Get("states");
    if (!protocol.IsNumber() || !family.IsNumber() || !states.IsNumber() ||
        !WholeIn(states.As<Napi::Number>().DoubleValue(), 0, UINT32_MAX) ||
        !NlEndpointArg(obj.Get("dst"), &q->dst) || !NlEndpointArg(obj.Get("src"), &q->src)) {
      ThrowTypeError(info.Env(), usage);
      return false;
    }
    q->protocol = protocol.As<Napi::Number>().Int32Value();
    q->family = family.As<Napi::Number>().Int32Value();
    q->states = states.As<Napi::Number>().Uint32Value();
    return true;
  }

  Napi::Value Addresses(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<NlAddress> list;
    int rc = nl_addresses(&list);
    if (rc < 0) return Napi::Number::New(env, rc);
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) {
      const NlAddress& a = list[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("ifindex", a.ifindex);
      o.Set("ifname", a.ifname);
      o.Set("family", a.family);
      o.Set("address", a.address);
      o.Set("prefixLength", a.prefix_len);
      o.Set("scope", a.scope);
      o.Set("ifaFlags", Napi::Number::New(env, a.ifa_flags));
      o.Set("linkFlags", Napi::Number::New(env, a.link_flags));
      o.Set("operState", a.oper_state);
      if (!a.label.empty()) o.Set("label", a.label);
      if (a.has_cacheinfo) {
        o.Set("preferredLifetime", Napi::Number::New(env, a.preferred));
        o.Set("validLifetime", Napi::Number::New(env, a.valid));
      }
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value SocketCounts(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "socketCounts(query)")) return info.Env().Undefined();
    NlSockQuery query;
    if (!NlSockQueryArg(info, 0, &query)) return info.Env().Undefined();
    uint32_t counts[kNlStates];
    int rc = nl_socket_counts(query, counts);
    if (rc < 0) return Napi::Number::New(info.Env(), rc);
    Napi::Array out = Napi::Array::New(info.Env(), kNlStates);
    for (uint32_t i = 0; i < kNlStates; i++) out.Set(i, Napi::Number::New(info.Env(), counts[i]));
    return out;
  }

  Napi::Value SocketList(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "socketList(query, limit)")) return info.Env().Undefined();
    NlSockQuery query;
    if (!NlSockQueryArg(info, 0, &query)) return info.Env().Undefined();
    bool ok = true;
    int limit = IntArg(info, 1, &ok);
    if (!ok) return info.Env().Undefined();
    Napi::Env env = info.Env();
    std::vector<NlSockEntry> list;
    int rc = nl_socket_list(query, limit < 0 ? 0 : static_cast<size_t>(limit), &list);
    if (rc < 0) return Napi::Number::New(env, rc);
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) {
      const NlSockEntry& s = list[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("family", s.family);
      o.Set("state", s.state);
      o.Set("src", s.src);
      o.Set("sport", s.sport);
      o.Set("dst", s.dst);
      o.Set("dport", s.dport);
      o.Set("inode", Napi::Number::New(env, s.inode));
      o.Set("uid", Napi::Number::New(env, s.uid));
      if (s.v6only >= 0) o.Set("v6only", Napi::Boolean::New(env, s.v6only == 1));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value RouteGet(const Napi::CallbackInfo& info) {
    const char* usage = "routeGet({ family, dst, src?, oif?, device? })";
    if (!CheckArgs(info, 1, usage)) return info.Env().Undefined();
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      ThrowTypeError(env, usage);
      return env.Undefined();
    }
    Napi::Object obj = info[0].As<Napi::Object>();
    Napi::Value family = obj.Get("family");
    Napi::Value dst = obj.Get("dst");
    Napi::Value src = obj.Get("src");
    Napi::Value oif = obj.Get("oif");
    Napi::Value device = obj.Get("device");
    if (!family.IsNumber() || !dst.IsString() || !(src.IsUndefined() || src.IsString()) ||
        !(oif.IsUndefined() ||
          (oif.IsNumber() && WholeIn(oif.As<Napi::Number>().DoubleValue(), 0, INT32_MAX))) ||
        !(device.IsUndefined() || device.IsString())) {
      ThrowTypeError(env, usage);
      return env.Undefined();
    }
    NlRouteQuery query;
    query.family = family.As<Napi::Number>().Int32Value();
    query.dst = dst.As<Napi::String>().Utf8Value();
    if (src.IsString()) query.src = src.As<Napi::String>().Utf8Value();
    if (oif.IsNumber()) query.oif = oif.As<Napi::Number>().Int32Value();
    if (device.IsString()) query.device = device.As<Napi::String>().Utf8Value();
    NlRoute route;
    int rc = nl_route_get(query, &route);
    if (rc < 0) return Napi::Number::New(env, rc);
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", route.family);
    o.Set("type", route.type);
    o.Set("table", Napi::Number::New(env, route.table));
    o.Set("oif", route.oif);
    if (!route.oif_name.empty()) o.Set("oifName", route.oif_name);
    if (!route.prefsrc.empty()) o.Set("prefsrc", route.prefsrc);
    if (!route.gateway.empty()) o.Set("gateway", route.gateway);
    return o;
  }

  Napi::Value WatchAddresses(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      ThrowTypeError(env, "watchAddresses(onChange): onChange must be a function");
      return env.Undefined();
    }
    uv_loop_s* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) return Napi::Number::New(env, -ENOTSUP);
    auto entry = std::make_unique<WatchEntry>();
    entry->addon = this;
    entry->id = next_watch_id_++;
    entry->env = env;
    entry->callback = Napi::Persistent(info[0].As<Napi::Function>());
    entry->context = std::make_unique<Napi::AsyncContext>(env, "safebind:watchAddresses");
    int rc = address_watch_start(loop, NotifyWatch, entry.get(), &entry->watch);
    if (rc < 0) return Napi::Number::New(env, rc);
    if (watch_hook_ == nullptr &&
        napi_add_async_cleanup_hook(env, TeardownWatches, this, &watch_hook_) != napi_ok) {
      watch_hook_ = nullptr;
      StopWatch(entry.get());
      return Napi::Number::New(env, -ENOMEM);
    }
    uint32_t id = entry->id;
    watches_.push_back(std::move(entry));
    Napi::Object handle = Napi::Object::New(env);
    handle.Set("close", Napi::Function::New(
                            env,
                            [this, id](const Napi::CallbackInfo& call) {
                              CloseWatch(id);
                              return call.Env().Undefined();
                            },
                            "close"));
    return handle;
  }
  // --- end netlink methods ---
  // --- churn methods ---
  // The churn engine runs on threads of its own (native/churn.h); these methods only start, stop
  // and read them. A run reports back once, through a threadsafe function, on the JS thread.
  ChurnRuns churn_{&ChurnResultValue};
  // Each connect in flight holds a slot and an epoll event; far past the open-files limit a number
  // only asks for memory (a vector of 10^12 slots aborts the process with bad_alloc).
  static constexpr double kMaxChurnConcurrency = 1 << 20;

  static bool ChurnTypeError(Napi::Env env, const std::string& message) {
    ThrowTypeError(env, "churnStart: " + message);
    return false;
  }
  static bool ChurnBool(const Napi::Object& o, const char* key) {
    return Truthy(o.Env(), o.Get(key));
  }
  // A non-negative amount of `key` times `scale`: absent → 0; +Infinity, or more than 64 bits hold,
  // → 0, which the engine reads as "no limit". A cast of NaN, a negative or an overflowing double
  // to an unsigned integer is undefined behaviour, so those are refused.
  static bool ChurnAmount(Napi::Env env, const Napi::Object& o, const char* key, double scale,
                          uint64_t* out) {
    Napi::Value v = o.Get(key);
    *out = 0;
    if (v.IsUndefined()) return true;
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() * scale : NAN;
    if (!(d >= 0)) return ChurnTypeError(env, std::string(key) + " must be a number >= 0");
    if (d < 18446744073709551616.0) *out = static_cast<uint64_t>(d);  // 2^64
    return true;
  }
  static bool ChurnPort(Napi::Env env, const Napi::Object& o, const char* key, uint16_t* out) {
    Napi::Value v = o.Get(key);
    *out = 0;
    return v.IsUndefined() || PortValue(env, v, out);
  }
  // { family, address, port?, scopeId? } → SockAddr; each property read once.
  static bool ChurnAddr(Napi::Env env, Napi::Value v, SockAddr* out, const char* what) {
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
  static napi_value ChurnResultValue(Napi::Env env, const ChurnResult& r) {
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

  // churnStart(options, progress: ArrayBuffer, onDone(result)) → run id, or -errno.
  Napi::Value ChurnStart(const Napi::CallbackInfo& info) {
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

    int64_t id = churn_.Start(env, config, progress, info[2].As<Napi::Function>());
    return Napi::Number::New(env, static_cast<double>(id));
  }

  Napi::Value ChurnCancel(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "churnCancel(id)")) return info.Env().Undefined();
    bool ok = true;
    int id = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), churn_.Cancel(static_cast<uint32_t>(id)));
  }

  // churnListen(addr, backlog) → listener id, or -errno.
  Napi::Value ChurnListen(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "churnListen(addr, backlog)")) return info.Env().Undefined();
    SockAddr addr;
    if (!SockAddrArg(info, 0, &addr)) return info.Env().Undefined();
    bool ok = true;
    int backlog = IntArg(info, 1, &ok);
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(churn_.Listen(addr, backlog)));
  }

  // churnListenerStats(id) → { port, accepted, open }, or -ESRCH.
  Napi::Value ChurnListenerStats(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "churnListenerStats(id)")) return info.Env().Undefined();
    bool ok = true;
    int id = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    const ChurnListener* listener = churn_.Listener(static_cast<uint32_t>(id));
    if (listener == nullptr) return Napi::Number::New(info.Env(), -ESRCH);
    Napi::Object obj = Napi::Object::New(info.Env());
    obj.Set("port", listener->port());
    obj.Set("accepted", static_cast<double>(listener->accepted()));
    obj.Set("open", static_cast<double>(listener->open()));
    return obj;
  }

  Napi::Value ChurnListenerClose(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "churnListenerClose(id)")) return info.Env().Undefined();
    bool ok = true;
    int id = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), churn_.CloseListener(static_cast<uint32_t>(id)));
  }
  // --- end churn methods ---
};

}  // namespace safebind

using SafebindAddon = safebind::SafebindAddon;
NODE_API_ADDON(SafebindAddon)
