/**
 * The demo's reports: one HTML file per rollout (`rolloutctl report`'s builder), written to
 * .local/reports/<id>.html at the end of the demo.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileSafe, loadReport, writeReport } from '../../cli/report/report.ts';
import type { RolloutStore } from '../../functions/ports/rollout-store.ts';

export type ReportOutcome =
  | { readonly rolloutId: string; readonly path: string }
  | { readonly rolloutId: string; readonly error: string };

/** Writes each rollout's report into `dir`; a rollout that cannot be reported says why instead. */
export async function writeDemoReports(
  store: RolloutStore,
  rolloutIds: readonly string[],
  dir: string,
): Promise<ReportOutcome[]> {
  mkdirSync(dir, { recursive: true });
  const outcomes: ReportOutcome[] = [];
  for (const rolloutId of rolloutIds) {
    try {
      const path = join(dir, `${fileSafe(rolloutId)}.html`);
      writeReport(await loadReport(store, rolloutId), path);
      outcomes.push({ rolloutId, path });
    } catch (error) {
      outcomes.push({ rolloutId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return outcomes;
}

/** "report  checkout-x1: .local/reports/checkout-x1.html", one line per rollout. */
export function describeReports(outcomes: readonly ReportOutcome[]): string {
  return outcomes
    .map((o) =>
      'path' in o ? `report  ${o.rolloutId}: ${o.path}` : `report  ${o.rolloutId}: not written (${o.error})`,
    )
    .join('\n');
}
