/**
 * A stalled rollout: its work (a route change, an analysis window, the next step) is overdue by
 * more than `plan.stalledAfterMs` while no driver recorded progress — Monitoring unreachable makes
 * every measurement throw before anything is stored, a driver keeps failing, or none runs. The
 * first decision of a driver's run reports it (`rollout.stalled`), stored before the work that
 * may fail again, and at most once per interval. A pause waiting for a person is not stalled
 * (gateTimeout covers it; an analysis window of a paused canary is work, and can stall), nor is
 * ActionRequired (it said once that a person must act).
 */
import { describeSpan } from '../deadline-times.ts';
import type { Decision } from '../decision.ts';
import { describeProgress } from '../describe.ts';
import { expectedWindow, isAnalysing, plannedActionAt, windowDeadline } from '../schedule.ts';
import { isTerminal, type Rollout } from '../state.ts';
import { describeWeights } from '../weights.ts';
import { coalescedDueBy } from './coalesce.ts';
import { type Context, commit } from './context.ts';
import { record } from './deadlines.ts';

/** Since when the rollout's work is due (a window: since its points must all be visible); null: none. */
export function overdueSince(r: Rollout): number | null {
  if (r.status.phase === 'ActionRequired' || isTerminal(r.status.phase)) return null;
  const planned = plannedActionAt(r);
  if (planned === null) return null;
  if (r.intent === null && isAnalysing(r)) {
    // A paused rollout's windows are recorded when their verdict changes, or after COALESCED_WINDOWS.
    return Math.max(planned, coalescedDueBy(r) ?? windowDeadline(r, expectedWindow(r)));
  }
  return planned;
}

/** The `rollout.stalled` report due now, or null (not overdue long enough, or reported this interval). */
export function onStalled(c: Context): Decision | null {
  const r = c.r;
  const every = r.plan.stalledAfterMs;
  const due = overdueSince(r);
  if (every === undefined || due === null) return null;
  const last = record(r).stalled;
  if (last !== null && c.now - last.reportedAt < every) return null;
  // Nothing changed since the last report: the same overdue work, due since then.
  const since = last !== null && r.updatedAt === last.reportedAt ? Math.min(last.since, due) : due;
  if (c.now - since <= every) return null;
  return commit(c, {
    event: 'rollout.stalled',
    reason: `${overdueWork(r)} is ${describeSpan(c.now - since)} overdue (due ${new Date(since).toISOString()}, no progress recorded since; reported at most once every ${describeSpan(every)})${lastError(r)}`,
    deadlines: { ...record(r), stalled: { since, reportedAt: c.now } },
  });
}

function overdueWork(r: Rollout): string {
  const where = describeProgress(r.plan, r.status);
  if (r.intent !== null)
    return `route change #${r.intent.id} to ${describeWeights(r.intent.weights)} (${where})`;
  if (isAnalysing(r)) return `analysis window ${expectedWindow(r).index} of ${where}`;
  return `the next action of the rollout (${where})`;
}

function lastError(r: Rollout): string {
  return r.intent?.lastError ? `; last error: ${r.intent.lastError}` : '';
}
