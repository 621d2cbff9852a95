/** How e-values are shown: JSON-safe numbers in evidence, short text in summaries. */

/** `x` to `digits` significant digits, as a plain JSON number. */
export function significant(x: number, digits = 3): number {
  if (x === 0 || !Number.isFinite(x)) return Number.isFinite(x) ? 0 : Number.MAX_VALUE;
  return Number(x.toPrecision(digits));
}

/** The e-value for display: 3 significant digits, capped at 1e300 so it stays a JSON number. */
export function displayEValue(logE: number): number {
  return logE > 690 ? 1e300 : significant(Math.exp(logE));
}

export function formatE(e: number): string {
  if (e === 0) return '0';
  if (e >= 1e6) return e.toExponential(2);
  if (e >= 100) return e.toFixed(0);
  if (e >= 0.01) return e.toPrecision(3);
  return e.toExponential(1);
}
