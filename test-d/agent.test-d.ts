// safebind/agent's types: the constructors return Node's own Agent types and undici's Dispatcher, take
// every option those take plus the pool's, and a wrong option type does not compile.
import type http from 'node:http';
import type https from 'node:https';
import type { Dispatcher } from 'undici';
import { expectAssignable, expectError, expectType } from 'tsd';
import {
  createAgent,
  createDispatcher,
  createHttpsAgent,
  localPortRangeSlice,
  SourceConnectError,
} from '../dist/agent.js';
import { safeConnect } from '../dist/index.js';
import type { Diagnosis, Result } from '../dist/index.js';

expectType<http.Agent>(createAgent({ sources: ['10.0.0.11', '10.0.0.12'], keepAlive: true, maxSockets: 50 }));
expectType<https.Agent>(createHttpsAgent({ sources: ['10.0.0.11'], rejectUnauthorized: true }));
expectAssignable<Dispatcher>(
  createDispatcher({ sources: ['10.0.0.11'], connections: 10, keepAliveTimeout: 4000 }),
);
expectType<http.Agent>(createAgent({ bindAddressNoPort: false, localPortRange: [40000, 40999] }));

expectError(createAgent({ sources: '10.0.0.11' }));
expectError(createAgent({ bindAddressNoPort: 'yes' }));
expectError(createDispatcher({ sources: [1] }));

expectType<Result<[number, number]>>(localPortRangeSlice(0, 4));

declare const e: SourceConnectError;
expectType<string>(e.code);
expectType<Diagnosis>(e.diagnosis);
expectAssignable<Error>(e);

void safeConnect({ host: '10.0.0.7', port: 80, sources: ['10.0.0.11', '10.0.0.12'] });
void safeConnect({ host: '10.0.0.7', port: 80, sources: ['10.0.0.11'], localPortRange: [40000, 40999] });
expectError(safeConnect({ host: '10.0.0.7', port: 80, sources: '10.0.0.11' }));
