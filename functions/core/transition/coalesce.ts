/**
 * Repeated inputs that change nothing are not recorded: history and lifecycle events grow with
 * real changes only (docs/state.md, "What is recorded, what is coalesced").
 *
 * - A `closed` incident is recorded once, and only for the incident the rollout recorded open
 *   (its `lastAlert`): a close of an incident never seen open here, or one already closed, is
 *   `unchanged` with the reason.
 * - While `Paused`, an inconclusive window (missing data included) after an inconclusive one is
 *   not recorded: the next look measures the unrecorded windows again together with the next
 *   one, so no traffic goes unjudged, and a window spanning `COALESCED_WINDOWS` windows is
 *   recorded whatever its verdict. A pass is recorded (it carries evidence into the judge's
 *   accumulators) and a fail rolls back. So a paused rollout without conclusive data adds at
 *   most one analysis entry per COALESCED_WINDOWS windows.
 */
import type { AnalysisWindow, Judgement } from '../analysis/verdict.ts';
import { type Decision, NO_FOLLOW_UP } from '../decision.ts';
import type { IncidentInput } from '../inputs.ts';
import { expectedWindow, isAnalysing, windowDeadline } from '../schedule.ts';
import type { AlertRecord, Rollout } from '../state.ts';
import { type Context, commit, unchanged } from './context.ts';

/** At most this many windows of a paused rollout are measured together before one is recorded. */
export const COALESCED_WINDOWS = 60;

/** A close is recorded only for the incident the rollout recorded open, and only once. */
export function onAlertClosed(c: Context, incident: IncidentInput, lastAlert: AlertRecord): Decision {
  const seen = c.r.lastAlert;
  const same = seen !== null && seen.incidentId === incident.incidentId && seen.policy === incident.policy;
  if (!same) {
    return unchanged(
      `alert ${incident.policy} incident ${incident.incidentId} closed, but this rollout never recorded it open; nothing to record`,
    );
  }
  if (seen.state === 'closed') {
    return unchanged(
      `alert ${incident.policy} incident ${incident.incidentId} was recorded closed already at ${new Date(seen.at).toISOString()}`,
    );
  }
  return commit(c, {
    event: 'rollout.alert_closed',
    reason: `alert ${incident.policy} closed (${incident.summary})`,
    lastAlert,
  });
}

/** Whether a paused rollout's windows are measured together (its last recorded one was inconclusive). */
function coalescing(r: Rollout): boolean {
  return (
    r.status.phase === 'Paused' &&
    isAnalysing(r) &&
    r.analysis.splitSeen &&
    r.analysis.last?.verdict === 'inconclusive'
  );
}

/**
 * The window of a paused rollout not to record (inconclusive, as the last recorded one was, and
 * spanning fewer than COALESCED_WINDOWS windows): `unchanged`, looked at again once the next
 * window is readable to its end. Null: record it.
 */
export function coalescedWindow(c: Context, window: AnalysisWindow, j: Judgement): Decision | null {
  const r = c.r;
  const last = r.analysis.last;
  if (!coalescing(r) || last?.verdict !== 'inconclusive' || j.verdict !== 'inconclusive') return null;
  const first = expectedWindow(r);
  const span = window.index - first.index + 1;
  if (span >= COALESCED_WINDOWS) return null;
  const retryAt = windowDeadline(r, { end: window.end + r.plan.analysis.intervalMs });
  const windows = span === 1 ? `window ${window.index}` : `windows ${first.index}–${window.index}`;
  return {
    kind: 'unchanged',
    reason: `${windows}: inconclusive again while paused (${j.summary}); not recorded, as window ${last.window.index} was; measured again with the next window at ${new Date(retryAt).toISOString()} (recorded at the latest when ${COALESCED_WINDOWS} windows are unrecorded)`,
    followUp: NO_FOLLOW_UP,
    retryAt,
  };
}

/**
 * When a paused rollout's analysis is overdue: the latest a window of it is recorded, the end of
 * the coalescing span (plus its ingestion delay). Null when its windows are not coalesced.
 */
export function coalescedDueBy(r: Rollout): number | null {
  if (!coalescing(r)) return null;
  const first = expectedWindow(r);
  return windowDeadline(r, { end: first.end + (COALESCED_WINDOWS - 1) * r.plan.analysis.intervalMs });
}
