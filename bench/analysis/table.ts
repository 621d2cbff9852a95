/** Plain-text tables for benchmark output: right-aligned columns, a header rule. */

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Sorted copy; quantile by the nearest rank (q = 0.5: the lower median). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(0, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.min(rank, sorted.length - 1)] ?? Number.NaN;
}

export function percent(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** A count or a time for display: '—' for missing or infinite, compact otherwise. */
export function compact(x: number | null, digits = 0): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 1e5) return x.toExponential(1);
  return x.toFixed(digits);
}
