// Argument unpacking and result packing shared by the binding files: a programmer error (a wrong
// argument type) throws a TypeError; nothing here throws for errno. Node-API.
#pragma once

#include <napi.h>
#include <stdint.h>

#include <string>

#include "../sys.h"

namespace safebind {

// Throws a TypeError unless an exception is already pending (the first one wins).
void ThrowTypeError(Napi::Env env, const std::string& message);
// False (with a TypeError thrown) when one of the first `count` arguments is missing.
bool CheckArgs(const Napi::CallbackInfo& info, size_t count, const char* usage);
// JavaScript truthiness, safe while the environment is being torn down.
bool Truthy(Napi::Env env, Napi::Value v);
// True when v is a whole number within [lo, hi]: NaN, infinities and fractions fail.
bool WholeIn(double v, double lo, double hi);
// Argument i as an exact 32-bit integer; *ok = false (and a TypeError) otherwise.
int32_t IntArg(const Napi::CallbackInfo& info, size_t i, bool* ok);
// A whole number in 0..65535; false (and a TypeError) otherwise.
bool PortValue(Napi::Env env, Napi::Value v, uint16_t* out);
// { family, address, port, scopeId } → SockAddr
bool SockAddrArg(const Napi::CallbackInfo& info, size_t i, SockAddr* out);
Napi::Object SockAddrValue(Napi::Env env, const SockAddr& addr);

}  // namespace safebind
