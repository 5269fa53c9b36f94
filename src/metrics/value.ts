// A metric is either a number or "undefined" with the reason why (e.g. one class only),
// so an undefined metric is never printed or serialised as NaN.

export type MetricValue = { value: number } | { value: null; reason: string };

export function defined(value: number): MetricValue {
  return { value };
}

export function undefinedMetric(reason: string): { value: null; reason: string } {
  return { value: null, reason };
}

/** "0.9876" (4 decimals by default) or "undefined (reason)". */
export function formatMetric(v: MetricValue, digits = 4): string {
  return v.value === null ? `undefined (${v.reason})` : v.value.toFixed(digits);
}
