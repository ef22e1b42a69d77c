// Types of scripts/toolchain.mjs for the tests that use it.
export interface Toolchain {
  arch: 'x64' | 'arm64';
  cc: string;
  cxx: string;
  strip: string;
  gccLibDir: string;
  /** The glibc 2.17 sysroot: its lib64/ld-linux-*.so.* is that glibc's own dynamic loader. */
  sysroot: string;
}
export const SYSROOT_GLIBC: string;
export const ARM64_LD_PREFIX: string;
export function toolchain(arch: 'x64' | 'arm64'): Toolchain;
export function arm64Node(): string;
/** Compiles test/helpers/dlopen-probe.c for `arch`, linked against the glibc 2.17 sysroot, into `out`. */
export function buildProbe(arch: 'x64' | 'arm64', out: string): string;
