// Argument unpacking of the ARP packet-socket exports; the system calls are in packet.cc.
#include "packet_exports.h"

#include <stdio.h>

#include "args.h"

namespace safebind {
namespace {

bool BytesArg(const Napi::CallbackInfo& info, size_t i, Napi::Uint8Array* out) {
  if (!info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(info.Env(), "safebind: expected a Uint8Array (a Buffer)");
    return false;
  }
  *out = info[i].As<Napi::Uint8Array>();
  return true;
}

}  // namespace

Napi::Value ArpSocketExport(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), sys_arp_socket());
}

Napi::Value ArpBindExport(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 2, "arpBind(fd, ifindex)")) return info.Env().Undefined();
  bool ok = true;
  int fd = IntArg(info, 0, &ok);
  int ifindex = ok ? IntArg(info, 1, &ok) : 0;
  if (!ok) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), sys_arp_bind(fd, ifindex));
}

Napi::Value ArpHardwareAddressExport(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 1, "arpHardwareAddress(fd)")) return info.Env().Undefined();
  bool ok = true;
  int fd = IntArg(info, 0, &ok);
  if (!ok) return info.Env().Undefined();
  unsigned char mac[6];
  int rc = sys_arp_hwaddr(fd, mac);
  if (rc < 0) return Napi::Number::New(info.Env(), rc);
  char text[18];
  snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
           mac[4], mac[5]);
  return Napi::String::New(info.Env(), text);
}

Napi::Value ArpBroadcastExport(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 3, "arpBroadcast(fd, ifindex, payload)")) return info.Env().Undefined();
  bool ok = true;
  int fd = IntArg(info, 0, &ok);
  int ifindex = ok ? IntArg(info, 1, &ok) : 0;
  Napi::Uint8Array payload;
  if (!ok || !BytesArg(info, 2, &payload)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(),
                           sys_arp_broadcast(fd, ifindex, payload.Data(), payload.ByteLength()));
}

Napi::Value ArpRecvExport(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, 2, "arpRecv(fd, buffer)")) return info.Env().Undefined();
  bool ok = true;
  int fd = IntArg(info, 0, &ok);
  Napi::Uint8Array buffer;
  if (!ok || !BytesArg(info, 1, &buffer)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), sys_arp_recv(fd, buffer.Data(), buffer.ByteLength()));
}

}  // namespace safebind
