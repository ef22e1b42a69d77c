// Runs a suite against both host readers, as bufferutil runs one suite against its native and its
// fallback code: the addon's (netlink, sock_diag) and the no-addon one (/proc, os.networkInterfaces(),
// Node sockets) that serves hosts where the addon cannot load. The test process keeps the addon
// loaded (the namespace helper needs it); useHostReader routes every reader of lib/host through the
// implementation under test. The whole process runs without the addon with SAFEBIND_ADDON=none
// (test/api/no-addon-process.test.ts).
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { useHostReader } from '../../lib/host/reader.js';

export const READERS = ['addon', 'no-addon'] as const;
export type ReaderKind = (typeof READERS)[number];

/** `describe` once per host reader; the body gets the reader's kind to assert what it cannot read. */
export function eachReader(name: string, body: (kind: ReaderKind) => void): void {
  describe.each(READERS)(`${name} (%s reader)`, (kind) => {
    beforeEach(() => useHostReader(kind));
    afterEach(() => useHostReader());
    body(kind);
  });
}

/**
 * What a diagnosis's `unavailable` starts with under each reader: nothing with the addon; without
 * it, the one line naming what the no-addon reader cannot read.
 */
export function addonGap(kind: ReaderKind): unknown[] {
  return kind === 'addon' ? [] : [expect.stringMatching(/^running without the native addon: .+ not read$/)];
}
