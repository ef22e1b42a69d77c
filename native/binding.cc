// The export table and the argument unpacking of the socket exports. With native/binding/*.cc (the
// netlink and churn exports, the address-watch and churn-run lifecycles, shared unpacking) these
// are the only files that include the N-API header. Every errno crosses to JavaScript as a negative
// number; nothing here throws for errno. Programmer errors (wrong argument types) throw a
// TypeError, which the TypeScript layer never lets through from user input.
#include <napi.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <unordered_set>

#include "binding/address_watches.h"
#include "binding/args.h"
#include "binding/churn_exports.h"
#include "binding/netlink_exports.h"
#include "binding/netns_exports.h"
#include "binding/packet_exports.h"
#include "sys.h"

namespace safebind {

class SafebindAddon : public Napi::Addon<SafebindAddon> {
 public:
  // The environment is going away (its worker terminated, or the process exiting): what it still
  // owns is closed, and nothing it handed over is touched.
  ~SafebindAddon() {
    for (int fd : owned_) sys_close(fd);
  }

  SafebindAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports,
                {
                    InstanceValue("constants", Constants(env), napi_enumerable),
                    InstanceMethod("socket", &SafebindAddon::Socket),
                    InstanceMethod("close", &SafebindAddon::Close),
                    InstanceMethod("release", &SafebindAddon::Release),
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
                    InstanceMethod("socketIdentities", &SafebindAddon::SocketIdentities),
                    InstanceMethod("routeGet", &SafebindAddon::RouteGet),
                    InstanceMethod("neighbours", &SafebindAddon::Neighbours),
                    InstanceMethod("arpSocket", &SafebindAddon::ArpSocket),
                    InstanceMethod("arpBind", &SafebindAddon::ArpBind),
                    InstanceMethod("arpHardwareAddress", &SafebindAddon::ArpHardwareAddress),
                    InstanceMethod("arpBroadcast", &SafebindAddon::ArpBroadcast),
                    InstanceMethod("arpRecv", &SafebindAddon::ArpRecv),
                    InstanceMethod("watchAddresses", &SafebindAddon::WatchAddresses),
                    // --- end netlink exports ---
                    // --- namespace reader (exporter) ---
                    InstanceMethod("netnsRead", &SafebindAddon::NetnsRead),
                    // --- end namespace reader ---
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
    NlConstants(env, c);
    return c;
  }

  Napi::Value Socket(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 2, "socket(family, type)")) return info.Env().Undefined();
    bool ok = true;
    int family = IntArg(info, 0, &ok);
    int type = ok ? IntArg(info, 1, &ok) : 0;
    if (!ok) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), Own(sys_socket(family, type)));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "close(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    owned_.erase(fd);
    return Napi::Number::New(info.Env(), sys_close(fd));
  }

  // The descriptor now belongs to someone else (Node's handle, the caller of safeBind): this
  // environment's teardown must not close it. Returns whether it was still this addon's.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (!CheckArgs(info, 1, "release(fd)")) return info.Env().Undefined();
    bool ok = true;
    int fd = IntArg(info, 0, &ok);
    if (!ok) return info.Env().Undefined();
    return Napi::Boolean::New(info.Env(), owned_.erase(fd) > 0);
  }

  // A descriptor made by socket() or arpSocket() (rc >= 0) is this environment's until it is closed
  // or released.
  int Own(int rc) {
    if (rc >= 0) owned_.insert(rc);
    return rc;
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

  // --- netlink methods (native/binding/netlink_exports.cc, address_watches.cc) ---
  Napi::Value Addresses(const Napi::CallbackInfo& info) { return NlAddressesExport(info); }
  Napi::Value SocketCounts(const Napi::CallbackInfo& info) { return NlSocketCountsExport(info); }
  Napi::Value NetnsRead(const Napi::CallbackInfo& info) { return NetnsReadExport(info); }
  Napi::Value SocketList(const Napi::CallbackInfo& info) { return NlSocketListExport(info); }
  Napi::Value SocketIdentities(const Napi::CallbackInfo& info) {
    return NlSocketIdentitiesExport(info);
  }
  Napi::Value RouteGet(const Napi::CallbackInfo& info) { return NlRouteGetExport(info); }
  Napi::Value Neighbours(const Napi::CallbackInfo& info) { return NlNeighboursExport(info); }
  Napi::Value ArpSocket(const Napi::CallbackInfo& info) {
    Napi::Value fd = ArpSocketExport(info);
    if (fd.IsNumber()) Own(fd.As<Napi::Number>().Int32Value());
    return fd;
  }
  Napi::Value ArpBind(const Napi::CallbackInfo& info) { return ArpBindExport(info); }
  Napi::Value ArpHardwareAddress(const Napi::CallbackInfo& info) {
    return ArpHardwareAddressExport(info);
  }
  Napi::Value ArpBroadcast(const Napi::CallbackInfo& info) { return ArpBroadcastExport(info); }
  Napi::Value ArpRecv(const Napi::CallbackInfo& info) { return ArpRecvExport(info); }
  Napi::Value WatchAddresses(const Napi::CallbackInfo& info) { return watches_.Watch(info); }
  AddressWatches watches_;
  // --- end netlink methods ---
  // --- churn methods (native/binding/churn_exports.cc) ---
  Napi::Value ChurnStart(const Napi::CallbackInfo& info) { return churn_.Start(info); }
  Napi::Value ChurnCancel(const Napi::CallbackInfo& info) { return churn_.Cancel(info); }
  Napi::Value ChurnListen(const Napi::CallbackInfo& info) { return churn_.Listen(info); }
  Napi::Value ChurnListenerStats(const Napi::CallbackInfo& info) {
    return churn_.ListenerStats(info);
  }
  Napi::Value ChurnListenerClose(const Napi::CallbackInfo& info) {
    return churn_.ListenerClose(info);
  }
  // Descriptors made here and neither closed nor handed over yet. A worker terminated while
  // JavaScript held one across an await (a bind that waits for its address, a diagnosis being read)
  // never runs the code that would close it; descriptors are the process's, so its teardown does.
  std::unordered_set<int> owned_;
  // Declared last, so destroyed first: its destructor cancels and joins every churn thread.
  ChurnExports churn_;
  // --- end churn methods ---
};

}  // namespace safebind

using SafebindAddon = safebind::SafebindAddon;
NODE_API_ADDON(SafebindAddon)
