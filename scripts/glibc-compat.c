// Linked into the portable prebuilds only (scripts/prebuild.mjs), never into a local build.
//
// The prebuilds link GCC 12's static libstdc++ against a glibc 2.17 sysroot. That libstdc++ was
// built for glibc 2.36, and a few of its objects refer to what old glibc lacks: linked as they are,
// those names would stay undefined without a version and fail at load time on RHEL 8 or Amazon
// Linux 2. They are defined here, hidden, so each resolves inside the addon.
// test/package/prebuilds.test.ts fails if any other undefined, unversioned symbol appears.
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

long syscall(long number, ...);

#define HIDDEN __attribute__((visibility("hidden")))

// glibc 2.32: libstdc++ skips atomic reference counts when this is non-zero. 0 is always correct.
HIDDEN char __libc_single_threaded = 0;

// glibc 2.25 and 2.36, used only by std::random_device, which the addon does not use.
HIDDEN int getentropy(void *buffer, size_t length) {
  return syscall(SYS_getrandom, buffer, length, 0) == (long)length ? 0 : -1;
}

HIDDEN uint32_t arc4random(void) {
  uint32_t value = 0;
  while (getentropy(&value, sizeof value) != 0) {
  }
  return value;
}
