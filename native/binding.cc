// The only file that includes the N-API header: argument unpacking, result packing, and the export
// table. Every errno crosses to JavaScript as a negative number; nothing here throws for errno.
// Programmer errors (wrong argument types) throw a TypeError, which the TypeScript layer never
// lets through from user input.
#include <napi.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include "sys.h"

namespace safebind {
namespace {

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

bool CheckArgs(const Napi::CallbackInfo& info, size_t count, const char* usage) {
  for (size_t i = 0; i < count; i++) {
    if (info.Length() <= i || info[i].IsUndefined()) {
      Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

int32_t IntArg(const Napi::CallbackInfo& info, size_t i, bool* ok) {
  if (!info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "safebind: expected a number").ThrowAsJavaScriptException();
    *ok = false;
    return 0;
  }
  return info[i].As<Napi::Number>().Int32Value();
}

// { family, address, port, scopeId } → SockAddr
bool SockAddrArg(const Napi::CallbackInfo& info, size_t i, SockAddr* out) {
  if (!info[i].IsObject()) {
    Napi::TypeError::New(info.Env(), "safebind: expected { family, address, port, scopeId }")
        .ThrowAsJavaScriptException();
    return false;
  }
  Napi::Object obj = info[i].As<Napi::Object>();
  Napi::Value family = obj.Get("family");
  Napi::Value address = obj.Get("address");
  Napi::Value port = obj.Get("port");
  Napi::Value scope = obj.Get("scopeId");
  if (!family.IsNumber() || !address.IsString() || !port.IsNumber()) {
    Napi::TypeError::New(info.Env(), "safebind: expected { family, address, port, scopeId }")
        .ThrowAsJavaScriptException();
    return false;
  }
  out->family = family.As<Napi::Number>().Int32Value();
  out->address = address.As<Napi::String>().Utf8Value();
  out->port = static_cast<uint16_t>(port.As<Napi::Number>().Uint32Value());
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
    DefineAddon(exports, {
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
                             // --- netlink exports (addresses, sock_diag, route, watch) ---
                             // --- end netlink exports ---
                             // --- churn exports ---
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
    bool on = info[1].ToBoolean().Value();
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
      Napi::TypeError::New(info.Env(), "setDevice(fd, name): name must be a string")
          .ThrowAsJavaScriptException();
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
    int lo = ok ? IntArg(info, 1, &ok) : 0;
    int hi = ok ? IntArg(info, 2, &ok) : 0;
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), sys_set_local_port_range(fd, static_cast<uint16_t>(lo),
                                                                  static_cast<uint16_t>(hi)));
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

  // --- netlink methods ---
  // --- end netlink methods ---
  // --- churn methods ---
  // --- end churn methods ---
};

}  // namespace safebind

using SafebindAddon = safebind::SafebindAddon;
NODE_API_ADDON(SafebindAddon)
