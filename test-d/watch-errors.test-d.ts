// watchErrors: the callback receives a Diagnosis, the error as raised (unknown: anything can be
// thrown) and the report's target and repeat count; the call returns the function that stops.
import { expectAssignable, expectError, expectType } from 'tsd';
import {
  watchErrors,
  type Cause,
  type Diagnosis,
  type ReportInfo,
  type WatchErrorsOptions,
} from '../dist/index.js';

const stop = watchErrors({
  onDiagnosis(diagnosis, error, info) {
    expectType<Diagnosis>(diagnosis);
    expectType<Cause>(diagnosis.cause);
    expectType<unknown>(error);
    expectType<ReportInfo>(info);
    expectType<string>(info.target);
    expectType<number>(info.repeats);
  },
});
expectType<() => void>(stop);

// Two arguments are enough, and an async callback is allowed.
watchErrors({ onDiagnosis: async (d: Diagnosis, e: unknown) => console.log(d.summary, e) });
watchErrors({ onDiagnosis: () => undefined, windowMs: 5_000 });

expectAssignable<WatchErrorsOptions>({ onDiagnosis: () => undefined });
expectError(watchErrors());
expectError(watchErrors({}));
expectError(watchErrors({ onDiagnosis: () => undefined, windowMs: '60s' }));
expectError(watchErrors({ onDiagnosis: (d: string) => d }));
