// The ARP packet-socket exports of the addon (RFC 5227 probes): argument unpacking only. Node-API;
// packet(7).
#pragma once

#include <napi.h>

namespace safebind {

// arpSocket() → fd, or -errno (EPERM without CAP_NET_RAW).
Napi::Value ArpSocketExport(const Napi::CallbackInfo& info);
// arpBind(fd, ifindex) → 0 or -errno.
Napi::Value ArpBindExport(const Napi::CallbackInfo& info);
// arpHardwareAddress(fd) → "aa:bb:cc:dd:ee:ff" of the bound interface, or -errno.
Napi::Value ArpHardwareAddressExport(const Napi::CallbackInfo& info);
// arpBroadcast(fd, ifindex, payload: Uint8Array) → bytes sent, or -errno.
Napi::Value ArpBroadcastExport(const Napi::CallbackInfo& info);
// arpRecv(fd, buffer: Uint8Array) → bytes received, or -errno (-EAGAIN when nothing is queued).
Napi::Value ArpRecvExport(const Napi::CallbackInfo& info);

}  // namespace safebind
