/**
 * What `rolloutctl watch` shows, as pure functions of the rollout, its history and the terminal
 * width: a block of lines for a terminal, one plain line per change for a pipe, one JSON object
 * per change, and the outcome the watch ends with. No I/O here.
 */
import { targetStatuses } from '../../functions/app/status.ts';
import { stepPosition } from '../../functions/core/describe.ts';
import { type LifecycleEvent, toLifecycleEvent } from '../../functions/core/events.ts';
import { type HistoryEntry, type Rollout, type Snapshot, snapshot } from '../../functions/core/state.ts';
import { describeWeights } from '../../functions/core/weights.ts';

export type Evidence = { readonly [key: string]: unknown };

export type Outcome = 'Succeeded' | 'RolledBack' | 'Aborted' | 'Failed' | 'Superseded';

/** Narrowest block drawn; below it lines are cut anyway. */
const MIN_WIDTH = 40;
const BAR_CELLS = 24;

/** "step 2/4", "promotion", or "" outside a step. */
export function stepText(r: Rollout, snap: Snapshot): string {
  if (snap.step === null) return '';
  const { number, total } = stepPosition(r.plan, snap.step);
  return number === null ? 'promotion' : `step ${number}/${total}`;
}

/** How far through its plan the rollout is, 0..1 (the final promotion counts as a step). */
export function progressOf(r: Rollout, snap: Snapshot): number {
  const total = r.plan.steps.length;
  if (snap.phase === 'Succeeded' || total === 0) return snap.phase === 'Succeeded' ? 1 : 0;
  if (snap.phase === 'Promoting') return (total - 0.5) / total;
  return snap.step === null ? 0 : (snap.step + 1) / total;
}

export function progressBar(fraction: number, cells = BAR_CELLS): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * cells);
  return `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

function num(evidence: Evidence, key: string): number | null {
  const v = evidence[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function percent(ratio: number | null): string {
  return ratio === null ? '–' : `${(ratio * 100).toFixed(2)}%`;
}

/** "canary  1840 req  errors 0.31%  p99 120ms" from a verdict's evidence ("–" where it has none). */
export function backendLine(evidence: Evidence, backend: 'canary' | 'stable'): string | null {
  const requests = num(evidence, `${backend}Requests`);
  const ratio = num(evidence, `${backend}ErrorRatio`);
  const p99 = num(evidence, `${backend}P99Ms`);
  if (requests === null && ratio === null && p99 === null) return null;
  const p99Text = p99 === null ? '' : `  p99 ${p99.toFixed(0)}ms`;
  return `${backend.padEnd(6)}  ${requests ?? '–'} req  errors ${percent(ratio)}${p99Text}`;
}

/** "e-value 0.410 vs threshold 100" when the judge compared the backends. */
export function eValueText(evidence: Evidence): string {
  const e = num(evidence, 'eValue');
  const threshold = num(evidence, 'eValueThreshold');
  if (e === null) return '';
  const crossed = threshold !== null && e >= threshold ? ' (crossed)' : '';
  return `e-value ${e.toPrecision(3)}${threshold === null ? '' : ` vs threshold ${threshold}`}${crossed}`;
}

function hookLines(history: readonly HistoryEntry[]): string[] {
  const last = [...history].reverse().find((h) => (h.hooks ?? []).length > 0);
  return (last?.hooks ?? []).map(
    (h) => `hook ${h.point} ${h.hook}: ${h.status}${h.code === null ? '' : ` (HTTP ${h.code})`}`,
  );
}

function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(1, width - 1))}…`;
}

/** The block a terminal shows for one rollout; every line fits in `width` columns (no wrapping). */
export function renderBlock(r: Rollout, history: readonly HistoryEntry[], width: number): string[] {
  const w = Math.max(MIN_WIDTH, width) - 1;
  const now = snapshot(r);
  const lines = [`${r.id}  ${r.status.phase}  ${stepText(r, now)}  v${r.version}`.replace(/ {3,}/g, '  ')];
  lines.push(`  ${progressBar(progressOf(r, now))}`);
  for (const t of targetStatuses(r)) {
    const writing = t.writing === null ? '' : ` (writing ${describeWeights(t.writing)})`;
    lines.push(`  ${describeWeights(t.weights)}${writing}  ${t.route}`);
  }
  const last = r.analysis.last;
  if (last) {
    const e = eValueText(last.evidence);
    lines.push(`  verdict ${last.verdict} (window ${last.window.index})${e ? `  ${e}` : ''}`);
    for (const b of ['canary', 'stable'] as const) {
      const line = backendLine(last.evidence, b);
      if (line) lines.push(`  ${line}`);
    }
  }
  for (const h of hookLines(history)) lines.push(`  ${h}`);
  const latest = history.at(-1);
  if (latest) lines.push(`  ${latest.event}: ${latest.reason}`);
  return lines.map((l) => cut(l, w));
}

/** One line per change, for pipes and logs: no escape codes, nothing redrawn. */
export function plainLine(r: Rollout, entry: HistoryEntry): string {
  const step = stepText(r, entry.to);
  const verdict = entry.verdict
    ? `  ${entry.verdict.verdict} ${eValueText(entry.verdict.evidence)}`.trimEnd()
    : '';
  const parts = [
    new Date(entry.at).toISOString(),
    `${r.id} v${entry.version}`,
    entry.to.phase,
    ...(step ? [step] : []),
    describeWeights(entry.to.weights),
  ];
  return `${parts.join('  ')}${verdict}  ${entry.event}: ${entry.reason}`;
}

/** One JSON object per change: the lifecycle event shape (docs/events.md). */
export function changeRecord(r: Rollout, entry: HistoryEntry): LifecycleEvent {
  return toLifecycleEvent(r, entry);
}

export function outcomeOf(r: Rollout): Outcome | null {
  switch (r.status.phase) {
    case 'Succeeded':
    case 'Failed':
      return r.status.phase;
    case 'RolledBack':
    case 'Aborted':
      return r.supersededBy ? 'Superseded' : r.status.phase;
    default:
      return null;
  }
}

/** "checkout-7 Succeeded after 9 changes: <reason>". */
export function outcomeLine(r: Rollout, outcome: Outcome, history: readonly HistoryEntry[]): string {
  const by = outcome === 'Superseded' && r.supersededBy ? ` by ${r.supersededBy}` : '';
  const reason = [...history].reverse().find((h) => h.version <= r.version && h.to.phase === r.status.phase);
  return `${r.id} ${outcome}${by} at ${describeWeights(r.weights)}${reason ? `: ${reason.reason}` : ''}`;
}
