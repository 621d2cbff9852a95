/**
 * Busy routes (`whenRouteBusy`): a rollout accepted while its route has an active rollout waits
 * in the route's queue (phase Queued, nothing due, the route untouched) and takes the route over
 * when the lock is handed to it — in the same commit that makes the active rollout terminal.
 * These builders are pure; the store calls them inside that commit.
 */
import { type HistoryEntry, type Rollout, snapshot } from './state.ts';
import { primaryRoute } from './targets.ts';
import { transition } from './transition.ts';

export interface Created {
  readonly rollout: Rollout;
  readonly entry: HistoryEntry;
}

/** Where a request for a busy route lands. */
export interface QueuePlace {
  /** Arrival number in the route's queue (from the route lock's counter, in commit order). */
  readonly seq: number;
  /** The route's active rollout. */
  readonly holder: string;
  /** True for `whenRouteBusy: "supersede"`: first in line, and the holder is ended. */
  readonly supersede: boolean;
  /** A superseder that was waiting and is replaced by this one (supersede only). */
  readonly displaced: string | null;
}

/** The rollout as created (version 1), turned into one that waits for its route. */
export function queueRollout(created: Created, place: QueuePlace): Created {
  const rollout: Rollout = {
    ...created.rollout,
    status: { phase: 'Queued', seq: place.seq },
    nextActionAt: null,
    supersedes: place.supersede ? place.holder : null,
    supersededBy: null,
    queuedAs: place.seq,
  };
  const spec = rollout.spec;
  const reason = place.supersede
    ? `rollout of ${spec.canary} on ${primaryRoute(spec)} accepted to supersede ${place.holder} (${spec.supersedeWith}); first in the route's queue, it starts when ${place.holder} has ended${
        place.displaced === null ? '' : `; it replaces ${place.displaced}, which was waiting to supersede it`
      }`
    : `rollout of ${spec.canary} on ${primaryRoute(spec)} accepted while ${place.holder} is active; queued (arrival ${place.seq} in the route's queue), it starts when the rollouts before it have ended`;
  return {
    rollout,
    entry: {
      ...created.entry,
      event: 'rollout.queued',
      reason,
      from: snapshot(rollout),
      to: snapshot(rollout),
    },
  };
}

/** The head of the route's queue takes the route over from `previous`, which just ended: due now. */
export function dequeueRollout(head: Rollout, previous: Rollout, at: number): Created {
  const rollout: Rollout = {
    ...head,
    status: { phase: 'Pending' },
    version: head.version + 1,
    updatedAt: at,
    nextActionAt: at,
  };
  const entry: HistoryEntry = {
    version: rollout.version,
    at,
    event: 'rollout.dequeued',
    actor: `route:${previous.id}`,
    input: 'dequeue',
    reason: `${previous.id} ended (${previous.status.phase}); the route is this rollout's now and it starts`,
    from: snapshot(head),
    to: snapshot(rollout),
    intent: null,
    verdict: null,
  };
  return { rollout, entry };
}

/**
 * A superseder still waiting when a newer one arrives: the newest wins, the older one ends
 * Aborted ("superseded before it started"), linked to the newer one. Null if it no longer waits.
 */
export function displaceSuperseder(waiting: Rollout, by: string, at: number): Created | null {
  if (waiting.status.phase !== 'Queued') return null;
  const decision = transition(
    waiting,
    { type: 'supersede', by, with: 'abort', actor: `supersede:${by}` },
    at,
  );
  return decision.kind === 'changed' ? { rollout: decision.rollout, entry: decision.entry } : null;
}
