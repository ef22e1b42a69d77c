// A Result must be narrowed on `ok` before `value` or `error` is read: the type system enforces the
// contract of DESIGN.md ("Results, not exceptions") for everyone who imports safebind.
import { expectAssignable, expectError, expectType } from 'tsd';
import type { Result, SocketError } from '../dist/index.js';

declare const port: Result<number>;

expectError(port.value);
expectError(port.error);

if (port.ok) {
  expectType<number>(port.value);
  expectError(port.error);
} else {
  expectType<SocketError>(port.error);
  expectType<string>(port.error.code);
  expectType<number>(port.error.errno);
  expectError(port.value);
}

expectAssignable<Result<number>>({ ok: true, value: 8080 });
expectAssignable<Result<number>>({
  ok: false,
  error: { syscall: 'bind', errno: 99, code: 'EADDRNOTAVAIL', message: 'bind EADDRNOTAVAIL 10.0.0.50:8080' },
});
expectError<Result<number>>({ ok: true, error: { syscall: 'bind', errno: 99, code: 'E', message: 'm' } });
expectError<Result<number>>({ ok: false, value: 1 });
