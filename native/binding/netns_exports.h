// The namespace-reader export: argument unpacking, the worker that waits for the reader thread
// off the JavaScript thread, and result packing. Node-API; the read itself is netns_read.cc.
#pragma once

#include <napi.h>

namespace safebind {

// netnsRead({ path, dests: Uint8Array (19 bytes per destination), top, files }) → Promise of
// { openRc, setnsRc, inode, diagRc, states, top, dests (Uint32Array: per dest, total then 16
// states), files }, or -errno (pthread_create).
Napi::Value NetnsReadExport(const Napi::CallbackInfo& info);

}  // namespace safebind
