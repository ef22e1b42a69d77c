// Loads one .node file with dlopen(RTLD_LAZY) and looks up its N-API entry point, calling nothing.
// Linked against an old glibc sysroot and run by that glibc's own dynamic loader, it proves the
// loader finds every library and symbol version the file needs, and that the file's static
// constructors (its static libstdc++) run there. Node's napi_* functions stay unresolved: RTLD_LAZY
// binds them at first call, which never comes. Built by test/package/prebuilds.test.ts and
// scripts/test-arm64.mjs.
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: dlopen-probe FILE.node\n");
    return 2;
  }
  void *addon = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL);
  if (!addon) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  void *init = dlsym(addon, "napi_register_module_v1");
  printf("loaded; napi_register_module_v1 %s\n", init ? "found" : "missing");
  return init ? 0 : 1;
}
