// Types of scripts/elf-bounds.mjs for the tests that use it.
export interface ElfInfo {
  elf: boolean;
  bits: number;
  arch: string;
  needed: string[];
  versions: Record<string, string[]>;
  highest: Record<string, string | undefined>;
  unversioned: string[];
}
export const BOUNDS: Record<'GLIBC' | 'GLIBCXX' | 'CXXABI' | 'GCC', string>;
export const BASE_LIBRARIES: string[];
export function compareVersions(a: string, b: string): number;
export function inspectElf(file: string, objdump?: string): ElfInfo;
export function boundsProblems(file: string, arch: string, objdump?: string): string[];
