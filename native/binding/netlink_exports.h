// The netlink exports of the addon: argument unpacking and result packing only. Node-API;
// rtnetlink(7), sock_diag(7).
#pragma once

#include <napi.h>

#include "../netlink.h"

namespace safebind {

// Sets c.addressFlags, linkFlags, scopes, tcpStates and routeTypes: name → number tables.
void NlConstants(Napi::Env env, Napi::Object c);
// addresses() → [{ ifindex, ifname, family, address, prefixLength, … }], or -errno.
Napi::Value NlAddressesExport(const Napi::CallbackInfo& info);
// socketCounts(query) → counts by TCP state, or -errno.
Napi::Value NlSocketCountsExport(const Napi::CallbackInfo& info);
// socketList(query, limit) → [{ family, state, src, sport, dst, dport, inode, uid }], or -errno.
Napi::Value NlSocketListExport(const Napi::CallbackInfo& info);
// socketIdentities(query) → { cookies: ArrayBuffer of uint64, states: Uint8Array, timers:
// Uint8Array, expiresMs: Uint32Array } (one index per socket), or -errno.
Napi::Value NlSocketIdentitiesExport(const Napi::CallbackInfo& info);
// routeGet({ family, dst, src?, oif?, device? }) → { family, type, table, oif, … }, or -errno.
Napi::Value NlRouteGetExport(const Napi::CallbackInfo& info);

}  // namespace safebind
