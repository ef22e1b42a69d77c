// Argument unpacking and result packing of the netlink exports: addresses (rtnetlink(7)),
// socket counts and lists (sock_diag(7)), route lookups. The queries themselves are in
// addresses.cc, sock_diag.cc and route.cc, with no N-API.
#include "netlink_exports.h"

#include "args.h"

namespace safebind {
namespace {

Napi::Object NlTable(Napi::Env env, const NlConstant* (*table)(size_t*)) {
  size_t count = 0;
  const NlConstant* entries = table(&count);
  Napi::Object obj = Napi::Object::New(env);
  for (size_t i = 0; i < count; i++)
    obj.Set(entries[i].name, Napi::Number::New(env, entries[i].value));
  return obj;
}

bool NlEndpointArg(Napi::Value value, NlEndpoint* out) {
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
    if (!port.IsNumber() || !WholeIn(port.As<Napi::Number>().DoubleValue(), 0, 65535)) return false;
    out->port = static_cast<uint16_t>(port.As<Napi::Number>().Uint32Value());
  }
  return true;
}

bool NlSockQueryArg(const Napi::CallbackInfo& info, size_t i, NlSockQuery* q) {
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

}  // namespace

void NlConstants(Napi::Env env, Napi::Object c) {
  c.Set("addressFlags", NlTable(env, nl_address_flags));
  c.Set("linkFlags", NlTable(env, nl_link_flags));
  c.Set("scopes", NlTable(env, nl_scopes));
  c.Set("tcpStates", NlTable(env, nl_tcp_states));
  c.Set("routeTypes", NlTable(env, nl_route_types));
}

Napi::Value NlAddressesExport(const Napi::CallbackInfo& info) {
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

Napi::Value NlSocketCountsExport(const Napi::CallbackInfo& info) {
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

Napi::Value NlSocketListExport(const Napi::CallbackInfo& info) {
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

Napi::Value NlSocketIdentitiesExport(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 1, "socketIdentities(query)")) return info.Env().Undefined();
  NlSockQuery query;
  if (!NlSockQueryArg(info, 0, &query)) return info.Env().Undefined();
  Napi::Env env = info.Env();
  std::vector<NlSockIdentity> list;
  int rc = nl_socket_identities(query, &list);
  if (rc < 0) return Napi::Number::New(env, rc);
  size_t n = list.size();
  Napi::ArrayBuffer cookies = Napi::ArrayBuffer::New(env, n * sizeof(uint64_t));
  Napi::Uint8Array states = Napi::Uint8Array::New(env, n);
  Napi::Uint8Array timers = Napi::Uint8Array::New(env, n);
  Napi::Uint32Array expires = Napi::Uint32Array::New(env, n);
  uint64_t* c = static_cast<uint64_t*>(cookies.Data());
  for (size_t i = 0; i < n; i++) {
    c[i] = list[i].cookie;
    states[i] = list[i].state;
    timers[i] = list[i].timer;
    expires[i] = list[i].expires_ms;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("cookies", cookies);
  o.Set("states", states);
  o.Set("timers", timers);
  o.Set("expiresMs", expires);
  return o;
}

Napi::Value NlRouteGetExport(const Napi::CallbackInfo& info) {
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

}  // namespace safebind
