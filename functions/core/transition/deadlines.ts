/**
 * Progress deadlines (request `deadline` and `gateTimeout`), checked first whenever a driver
 * comes by (`due`), in any phase that is not terminal and not rolling back already:
 * - rollback: RollingBack with cause `deadline`, the route change of a failed verdict (rollback wins);
 * - abort: the path an operator's abort takes (actor `deadline` / `gateTimeout`), Aborted once the
 *   route shows the canary out;
 * - notify: one `rollout.deadline_passed` (once per rollout) or `rollout.gate_timed_out` (once per
 *   pause) and the rollout goes on.
 * A rollout waiting for a person (ActionRequired) is acted on too: a rollback or abort replaces the
 * change it wanted by a rollback that overwrites; if that write is refused as well, it waits as
 * RollingBack for the person, and no deadline is acted on again (no loop).
 */
import { deadlineDueAt, describeSpan, gateTimeoutDueAt } from '../deadline-times.ts';
import type { Decision } from '../decision.ts';
import { describeProgress } from '../describe.ts';
import type { DeadlineAction } from '../plan.ts';
import type { DeadlineKind, DeadlineRecord, Rollout } from '../state.ts';
import { type Context, commit } from './context.ts';
import { rollBack } from './route.ts';

/** The decision a passed deadline or timed-out pause asks for; null when none is due. */
export function onDeadlines(c: Context): Decision | null {
  return deadlinePassed(c) ?? gateTimedOut(c);
}

function deadlinePassed(c: Context): Decision | null {
  const r = c.r;
  const at = deadlineDueAt(r);
  const plan = r.plan.deadline;
  if (at === null || c.now < at || !plan) return null;
  const summary = `the rollout's deadline (${r.spec.deadline?.after ?? describeSpan(plan.afterMs)} from its creation, ${iso(at)}) passed while ${describeProgress(r.plan, r.status)}`;
  return act(c, 'deadline', plan.action, summary, { ...record(r), deadlinePassedAt: c.now });
}

function gateTimedOut(c: Context): Decision | null {
  const r = c.r;
  const at = gateTimeoutDueAt(r);
  const plan = r.plan.gateTimeout;
  if (at === null || c.now < at || !plan) return null;
  const since = at - plan.afterMs;
  const summary = `paused since ${iso(since)} for longer than the gate timeout (${r.spec.gateTimeout?.after ?? describeSpan(plan.afterMs)}) at ${describeProgress(r.plan, r.status)}`;
  return act(c, 'gateTimeout', plan.action, summary, { ...record(r), gateTimedOutFor: since });
}

function act(
  c: Context,
  which: DeadlineKind,
  action: DeadlineAction,
  summary: string,
  notified: DeadlineRecord,
): Decision {
  // The deadline, not the driver that noticed it, is what moves the rollout.
  const by: Context = { ...c, actor: which };
  switch (action) {
    case 'rollback':
      return rollBack(by, { kind: 'deadline', which, summary }, `${summary}; rolling back`);
    case 'abort':
      return rollBack(
        by,
        { kind: 'abort', actor: which, note: summary },
        `aborted by the ${which === 'deadline' ? 'deadline' : 'gate timeout'}: ${summary}; restoring stable`,
      );
    case 'notify':
      return commit(by, {
        event: which === 'deadline' ? 'rollout.deadline_passed' : 'rollout.gate_timed_out',
        reason: `${summary}; reported once, the rollout goes on`,
        deadlines: notified,
      });
  }
}

/** What was reported so far (nothing on rollouts that never reported anything). */
export function record(r: Rollout): DeadlineRecord {
  return r.deadlines ?? { deadlinePassedAt: null, gateTimedOutFor: null, stalled: null };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
