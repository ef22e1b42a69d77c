// Built on platforms other than Linux: the addon loads and says so, and the TypeScript layer turns
// every call into an `unsupported-platform` failure.
#include <napi.h>

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("unsupported", Napi::Boolean::New(env, true));
  return exports;
}

NODE_API_MODULE(safebind, Init)
