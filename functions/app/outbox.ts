/**
 * The outbox drain: re-sends lifecycle events whose publish after their commit never happened
 * (the function died between the two) or failed. The store writes each event in the commit of
 * its history entry; the publisher that made the change removes it once published. Whatever is
 * still there after `config.tick.outboxGraceMs` (OUTBOX_GRACE_SECONDS; long enough not to race
 * the publisher still at work) is published here, in (rolloutId, version) order, then removed.
 * The tick runs it every minute (only the tick: a per-rollout query at the end of every executor
 * run would cost a read per run, and a composite index, for a rare case the tick covers), so a
 * lost publish is re-sent within grace + 1 minute; a publish
 * that happened but was not recorded is sent again with the same `eventId` (docs/events.md#delivery).
 */
import type { OutboxEvent } from '../core/events.ts';
import type { PageCursor, RolloutStore } from '../ports/rollout-store.ts';
import type { Config } from './config.ts';
import type { LifecycleEvents } from './lifecycle-events.ts';
import type { Logger } from './log.ts';

export interface DrainDeps {
  readonly store: Pick<RolloutStore, 'pendingEvents' | 'eventsPublished'>;
  readonly events: LifecycleEvents;
  readonly config: Pick<Config, 'tick'>;
  readonly log: Logger;
}

export interface DrainLimits {
  /** Events read per page of the outbox query. */
  readonly page: number;
  /** Events handled per call at most; the rest wait for the next call. */
  readonly max: number;
}

export const DRAIN_LIMITS: DrainLimits = { page: 100, max: 1000 };

export interface DrainReport {
  /** Pending events found (at most `max`). */
  readonly found: number;
  readonly published: number;
  /** Not published (or held back behind an earlier event of their rollout that was not): left for the next drain. */
  readonly left: number;
  /** More pending events may be waiting beyond `max`. */
  readonly more: boolean;
}

function byRolloutVersion(a: OutboxEvent, b: OutboxEvent): number {
  if (a.rolloutId !== b.rolloutId) return a.rolloutId < b.rolloutId ? -1 : 1;
  return a.version - b.version;
}

export async function drainOutbox(
  deps: DrainDeps,
  now: number,
  limits: DrainLimits = DRAIN_LIMITS,
): Promise<DrainReport> {
  const createdBefore = now - deps.config.tick.outboxGraceMs;
  // A rollout whose event could not be published: its later events wait too (kept in order).
  const held = new Set<string>();
  let after: PageCursor | null = null;
  let found = 0;
  let published = 0;
  do {
    const page = await deps.store.pendingEvents(
      createdBefore,
      Math.min(limits.page, limits.max - found),
      after,
    );
    found += page.items.length;
    const sent: string[] = [];
    for (const event of [...page.items].sort(byRolloutVersion)) {
      if (!held.has(event.rolloutId) && (await deps.events.deliver(event))) sent.push(event.eventId);
      else held.add(event.rolloutId);
    }
    await deps.store.eventsPublished(sent);
    published += sent.length;
    after = page.next;
  } while (after !== null && found < limits.max);
  const report = { found, published, left: found - published, more: after !== null };
  if (found > 0) deps.log.info(`outbox drain re-sent ${published} of ${found} pending events`, { ...report });
  return report;
}
