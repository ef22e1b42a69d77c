// The connect-churn benchmark as a library: runChurn() for a run on this host, rehearseChurn() for
// exhaustion rehearsed in a private namespace, renderChartHtml() for the chart of a report.
export { runChurn } from './run.js';
export {
  rehearseChurn,
  runRehearsal,
  rehearsalPlanFromEnv,
  rehearsalRange,
  DEFAULT_POOL,
} from './rehearse.js';
export { renderChartHtml } from './chart.js';
export type {
  ChurnFirstFailure,
  ChurnMode,
  ChurnOptions,
  ChurnReport,
  ChurnSample,
  RehearseOptions,
} from './types.js';
// `bench capacity`: source-port capacity per approach, in a private namespace.
export { benchCapacity, type CapacityOptions } from './capacity.js';
export { renderCapacityChartHtml } from './capacity-chart.js';
export { MAX_CAPACITY_POOL } from './defaults.js';
export type { CapacityApproach, CapacityReport } from './capacity-types.js';
