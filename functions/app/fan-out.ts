/**
 * What the tick hands out: one advance message per (rollout, version) it found due or waiting for
 * a person, and one per rollout with route operations nobody reported back on. Pure planning
 * (`planDue`, `planOperations`) and the publishing of a planned page (`FanOut`).
 */
import type { Rollout, RouteOperation } from '../core/state.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import { type AdvanceMessage, dueMessage, encodeAdvance, workKey } from './advance-message.ts';
import type { Lazy } from './lifecycle-events.ts';
import type { Logger } from './log.ts';

export interface Planned {
  readonly rolloutId: string;
  /** The encoded message. */
  readonly data: string;
}

export interface FanOutPlan {
  readonly messages: readonly Planned[];
  /** Found but left to their workflow (not yet overdue by the grace period). */
  readonly skipped: number;
  /** Found again (same rollout and version, or its operations) after an earlier page: not sent twice. */
  readonly repeated: number;
}

/**
 * The due rollouts the tick hands out: every scheduler-driven one, and a workflow-driven one only
 * once `since` (when it became due, or began to wait for a person) is `workflowGraceMs` past —
 * its execution should have come by then.
 */
export function eligibleForTick(r: Rollout, since: number, now: number, workflowGraceMs: number): boolean {
  return r.driver.kind === 'scheduler' || since <= now - workflowGraceMs;
}

/** Messages for a page of due rollouts; `seen` (work keys already sent this tick) is updated. */
export function planDue(
  rollouts: readonly Rollout[],
  eligible: (r: Rollout) => boolean,
  seen: Set<string>,
  actor: string,
): FanOutPlan {
  const messages: Planned[] = [];
  let skipped = 0;
  let repeated = 0;
  for (const r of rollouts) {
    const key = workKey({ kind: 'due', rolloutId: r.id, version: r.version, actor, rollout: null });
    if (seen.has(key)) repeated += 1;
    else if (!eligible(r)) skipped += 1;
    else {
      seen.add(key);
      messages.push({ rolloutId: r.id, data: dueMessage(r, actor) });
    }
  }
  return { messages, skipped, repeated };
}

/** One message per rollout for the operations that never reported back, oldest first. */
export function planOperations(
  operations: readonly RouteOperation[],
  seen: Set<string>,
  actor: string,
  maxPerMessage = 100,
): FanOutPlan {
  const byRollout = new Map<string, RouteOperation[]>();
  for (const op of operations) byRollout.set(op.rolloutId, [...(byRollout.get(op.rolloutId) ?? []), op]);
  const messages: Planned[] = [];
  let repeated = 0;
  for (const [rolloutId, ops] of byRollout) {
    const message: AdvanceMessage = {
      kind: 'operations',
      rolloutId,
      actor,
      operations: [...ops]
        .sort((a, b) => a.startedAt - b.startedAt)
        .slice(0, maxPerMessage)
        .map(({ name, route, intentId, weights, startedAt }) => ({
          name,
          rolloutId,
          route,
          intentId,
          weights,
          startedAt,
        })),
    };
    if (seen.has(workKey(message))) repeated += 1;
    else {
      seen.add(workKey(message));
      messages.push({ rolloutId, data: encodeAdvance(message) });
    }
  }
  return { messages, skipped: 0, repeated };
}

export interface FanOutDeps {
  readonly publisher: Lazy<EventPublisher>;
  readonly topic: string;
  readonly log: Logger;
}

/** Publishes planned messages, all of a page at once (the client batches them), counting. */
export class FanOut {
  readonly #deps: FanOutDeps;
  published = 0;
  failed = 0;

  constructor(deps: FanOutDeps) {
    this.#deps = deps;
  }

  async publish(messages: readonly Planned[]): Promise<void> {
    if (messages.length === 0) return;
    const publisher = await this.#deps.publisher();
    const outcomes = await Promise.allSettled(
      messages.map((m) => publisher.publishEncoded(this.#deps.topic, m.data, { rolloutId: m.rolloutId })),
    );
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') {
        this.published += 1;
        return;
      }
      this.failed += 1;
      this.#deps.log.error('could not hand a due rollout out; the next tick tries again', {
        rolloutId: messages[i]?.rolloutId,
        topic: this.#deps.topic,
        error: outcome.reason,
      });
    });
  }
}
