/**
 * Response counts by status class, the way Cloud Run labels request_count
 * (`response_code_class` = "2xx", "5xx", …). Shared by the mesh proxy, the demo backends and
 * the load generator so their numbers can be compared one to one.
 */

export const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type CodeClass = (typeof CODE_CLASSES)[number];

export type CodeCounts = { total: number } & Record<CodeClass, number>;

export function emptyCounts(): CodeCounts {
  return { total: 0, '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
}

/** The class of a status code; anything outside 100–599 counts as 5xx (a broken answer). */
export function codeClass(status: number): CodeClass {
  if (status >= 100 && status < 200) return '1xx';
  if (status >= 200 && status < 300) return '2xx';
  if (status >= 300 && status < 400) return '3xx';
  if (status >= 400 && status < 500) return '4xx';
  return '5xx';
}

export function countStatus(counts: CodeCounts, status: number): void {
  counts.total += 1;
  counts[codeClass(status)] += 1;
}

/** Nearest-rank percentile (p in 0–100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index] ?? Number.NaN;
}
