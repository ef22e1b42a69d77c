// The one rule for printing how full something is: "100%" means full and "0%" means empty, nothing
// else. Plain rounding breaks that at both ends: a pool at 99.6% would read "100% used … will fail
// when it reaches 100%", and one at 0.4% would read as empty. So a ratio is rounded to the digits
// shown, except that a ratio strictly between 0 and 1 whose rounding lands on 0 or 100 reads "<1%" or
// ">99%" (with one decimal: "<0.1%", ">99.9%").

/** Rounds half up despite binary fractions: 0.285 * 100 is 28.499999999999996, not 28.5. */
const EPSILON = 1e-9;

/**
 * A usage ratio as a percentage with `decimals` digits: 0 → '0%', 0.004 → '<1%', 0.005 → '1%',
 * 0.955 → '96%', 0.996 → '>99%', 1 → '100%'; with `decimals` 1, 0.0312 → '3.1%'. A ratio that is not
 * finite (something of nothing) reads as full.
 */
export function formatPercent(ratio: number, decimals = 0): string {
  if (!Number.isFinite(ratio)) return '100%';
  const scale = 10 ** decimals;
  const steps = Math.round(ratio * 100 * scale + EPSILON);
  const step = (1 / scale).toFixed(decimals);
  if (ratio > 0 && steps <= 0) return `<${step}%`;
  if (ratio < 1 && steps >= 100 * scale) return `>${(100 - 1 / scale).toFixed(decimals)}%`;
  return `${(Math.max(0, steps) / scale).toFixed(decimals)}%`;
}
