// Latency percentiles from hdr-histogram-js. Values are nanoseconds; the native loop hands over a
// compact histogram of its own (bucket value, count), which is fed in with its counts.
import { build, type Histogram } from 'hdr-histogram-js';

export function newLatencyHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Feeds the native loop's pairs [valueNs, count, …]. */
export function recordPairs(histogram: Histogram, pairs: Float64Array): void {
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const value = pairs[i] ?? 0;
    const count = pairs[i + 1] ?? 0;
    if (count > 0) histogram.recordValueWithCount(Math.max(1, Math.round(value)), count);
  }
}

const us = (ns: number) => Math.round(ns / 100) / 10;

/** p50/p90/p99 from the histogram, max exact (as measured, not bucketed), in µs with one decimal. */
export function latencySummary(
  histogram: Histogram,
  maxNs: number,
): { p50: number; p90: number; p99: number; max: number } {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    p50: us(histogram.getValueAtPercentile(50)),
    p90: us(histogram.getValueAtPercentile(90)),
    p99: us(histogram.getValueAtPercentile(99)),
    max: us(maxNs),
  };
}
