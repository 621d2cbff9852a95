/**
 * Busy routes: what a Queued rollout answers (only an abort or a supersede moves it), and how a
 * rollout is superseded by a newer request for its route — ended through the same paths as a
 * verdict rollback or an operator abort, its history naming the rollout that takes over.
 */
import type { Decision } from '../decision.ts';
import type { Input } from '../inputs.ts';
import type { Status } from '../state.ts';
import { type Context, commit, unchanged } from './context.ts';
import { rollBack } from './route.ts';

type SupersedeInput = Extract<Input, { type: 'supersede' }>;

/** A rollout waiting in its route's queue: only abort and supersede change it; the route is not touched. */
export function onQueued(c: Context, input: Input): Decision {
  if (input.type === 'supersede') return onSupersede(c, input);
  if (input.type === 'control' && input.command === 'abort') {
    return commit(c, {
      event: 'rollout.aborted',
      reason: `aborted by ${c.actor} while queued: ${input.note || 'no reason given'}; removed from the route's queue (the route was never touched)`,
      status: { phase: 'Aborted', actor: c.actor, note: input.note },
    });
  }
  if (input.type === 'control') {
    return unchanged(
      `queued: waits for its route; only abort applies before it starts (not ${input.command})`,
    );
  }
  return unchanged("queued: nothing is due until the route's active rollout has ended");
}

/**
 * A newer rollout request for this route supersedes this rollout. Running: it is rolled back (or
 * aborted) like a failed verdict (or an operator's abort). Already rolling back: only the link is
 * recorded. Still queued (a superseder replaced by a newer one): it ends Aborted, never started.
 */
export function onSupersede(c: Context, input: SupersedeInput): Decision {
  const r = c.r;
  const s = r.status;
  const by = input.by;
  if (r.supersededBy === by) return unchanged(`already superseded by ${by}`);
  if (s.phase === 'Queued') {
    const note = `superseded by ${by} before it started`;
    return linked(
      commit(c, {
        event: 'rollout.superseded',
        reason: `${note}; removed from the route's queue (the route was never touched)`,
        status: { phase: 'Aborted', actor: c.actor, note },
      }),
      by,
    );
  }
  if (rollingBack(s)) {
    return linked(
      commit(c, {
        event: 'rollout.superseded',
        reason: `superseded by ${by} while already rolling back${r.supersededBy ? ` (instead of ${r.supersededBy})` : ''}; ${by} takes the route once this rollout has ended`,
      }),
      by,
    );
  }
  const why = `superseded by ${by}; ${input.with === 'abort' ? 'aborting' : 'rolling back'} to stable, then ${by} takes the route`;
  const decision =
    input.with === 'abort'
      ? rollBack(c, { kind: 'abort', actor: c.actor, note: `superseded by ${by}` }, why)
      : rollBack(c, { kind: 'superseded', by }, why);
  return linked(decision, by);
}

function rollingBack(s: Status): boolean {
  return s.phase === 'RollingBack' || (s.phase === 'ActionRequired' && s.resume.phase === 'RollingBack');
}

/** The change recorded as the supersede, with the link to the rollout that supersedes. */
function linked(decision: Decision, by: string): Decision {
  if (decision.kind !== 'changed') return decision;
  return {
    ...decision,
    rollout: { ...decision.rollout, supersededBy: by },
    entry: { ...decision.entry, event: 'rollout.superseded' },
  };
}
