/**
 * A rollout's report from its store, and the file it is written to: the one path `rolloutctl
 * report` and the demo both take (no second renderer).
 */
import { writeFileSync } from 'node:fs';
import { rolloutStatus } from '../../functions/app/status.ts';
import type { RolloutStore } from '../../functions/ports/rollout-store.ts';
import { type ReportData, reportData } from './data.ts';
import { reportHtml } from './html.ts';

/** Throws RefusedError ROLLOUT_NOT_FOUND when there is no such rollout. */
export async function loadReport(store: RolloutStore, rolloutId: string): Promise<ReportData> {
  return reportData(await rolloutStatus({ store }, { rolloutId }));
}

export function writeReport(data: ReportData, path: string): void {
  writeFileSync(path, reportHtml(data));
}

/** A rollout id as part of a file name: anything but letters, digits, '.', '_' and '-' becomes '_'. */
export function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
