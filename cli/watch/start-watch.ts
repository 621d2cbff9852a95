/**
 * `rolloutctl start -f req.json --watch`: publish, then follow the rollout to its end, or report
 * the controller's refusal (exit 3). A rollout already stored under the request's id with another
 * request is someone else's: it is never shown as ours; the controller's SPEC_CONFLICT rejection
 * is awaited instead. The same request again (a CI re-run) is ours, and is followed.
 */
import { rolloutIdFor } from '../../functions/app/start-rollout.ts';
import type { RejectedEvent } from '../../functions/core/events.ts';
import type { RolloutRequest } from '../../functions/core/request.ts';
import { canonical } from '../../functions/core/routing/snapshot.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { RolloutStore } from '../../functions/ports/rollout-store.ts';
import { projectOf, publish, withStore } from '../cloud.ts';
import { type CliIo, type CommandContext, EXIT, type ExitCode, printJson } from '../command.ts';
import { type FollowOptions, followOne, pause } from './follow.ts';
import { onInterrupt } from './interrupt.ts';
import { exitOf, followOptions } from './options.ts';
import { Rejections } from './rejections.ts';
import { sinkFor } from './sinks.ts';

/** How long to wait for the controller's rejection of a request whose id another rollout holds. */
const CONFLICT_WAIT_MS = 60_000;

type Arrival =
  | { readonly kind: 'ours' }
  | { readonly kind: 'rejected'; readonly event: RejectedEvent }
  | { readonly kind: 'notOurs'; readonly holder: Rollout }
  | { readonly kind: 'gone'; readonly end: 'timedOut' | 'interrupted' };

export async function startAndWatch(ctx: CommandContext, request: RolloutRequest): Promise<ExitCode> {
  const project = projectOf(ctx);
  const interruption = onInterrupt();
  const rejections = await Rejections.open(project, request.rolloutId);
  try {
    const options = followOptions(ctx, interruption.signal);
    return await withStore(ctx, async ({ store }) => {
      const messageId = await publish(project, TOPICS.requests, request);
      const id = rolloutIdFor(request, messageId);
      if (ctx.json) printJson(ctx.io, { published: true, messageId, rolloutId: id });
      else ctx.io.out(`published rollout request (message ${messageId}) for ${id}\n`);
      const arrival = await arrivalOf(store, rejections, request, { id, messageId }, options);
      if (arrival.kind === 'ours')
        return exitOf(await followOne(store, id, sinkFor(ctx.io, ctx.json), options));
      return reportArrival(ctx, arrival, id);
    });
  } finally {
    await rejections.close();
    interruption.dispose();
  }
}

function isOurs(r: Rollout, request: RolloutRequest): boolean {
  return canonical(r.spec) === canonical(request);
}

/** Waits until the rollout exists (ours or not) or the controller refused the request. */
async function arrivalOf(
  store: RolloutStore,
  rejections: Rejections,
  request: RolloutRequest,
  published: { readonly id: string; readonly messageId: string },
  options: FollowOptions,
): Promise<Arrival> {
  let holder: Rollout | null = null;
  let conflictSince = 0;
  for (;;) {
    rejections.throwIfFailed();
    const event = rejections.find(published.messageId);
    if (event) return { kind: 'rejected', event };
    if (holder === null) {
      const r = await store.get(published.id);
      if (r !== null && isOurs(r, request)) return { kind: 'ours' };
      if (r !== null) [holder, conflictSince] = [r, Date.now()];
    }
    if (holder !== null && Date.now() - conflictSince >= CONFLICT_WAIT_MS) return { kind: 'notOurs', holder };
    if (options.deadline !== null && Date.now() >= options.deadline) return { kind: 'gone', end: 'timedOut' };
    if (!(await pause(Math.min(options.intervalMs, 250), options.signal))) {
      return { kind: 'gone', end: 'interrupted' };
    }
  }
}

function reportArrival(
  ctx: CommandContext,
  arrival: Exclude<Arrival, { kind: 'ours' }>,
  id: string,
): ExitCode {
  if (arrival.kind === 'gone') return EXIT.timedOut;
  if (arrival.kind === 'rejected') {
    printRejection(ctx.io, ctx.json, arrival.event);
    return EXIT.refused;
  }
  const message = `rollout ${id} already exists with a different request (${arrival.holder.status.phase}); it is not this request's rollout`;
  const hint = 'use a new rolloutId for a different rollout';
  if (ctx.json)
    printJson(ctx.io, { rejected: true, rolloutId: id, error: { code: 'SPEC_CONFLICT', message, hint } });
  else ctx.io.err(`rolloutctl start: ${message}\n  ${hint}\n`);
  return EXIT.refused;
}

export function printRejection(io: CliIo, json: boolean, event: RejectedEvent): void {
  if (json) {
    printJson(io, event);
    return;
  }
  const problems = (event.error.problems ?? []).map((p) => `\n  ${p.field}: ${p.rule}`).join('');
  io.err(
    `rolloutctl start: the controller rejected the request (${event.error.code}): ${event.reason}${problems}\n  ${event.error.hint}\n`,
  );
}
