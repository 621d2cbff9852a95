/**
 * Helpers for the hooks end-to-end tests: driving rollouts through the control and alert topics,
 * waiting for history entries and lifecycle events, and checking what a hook target received.
 */
import type { HookPoint, HookResult, HookStatus } from '../../functions/core/hooks.ts';
import type { HistoryEntry, Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import type { RecordedCall } from './hook-server.ts';
import { eventsOf, type LogLine, type Stack } from './stack.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined/null/false), every `everyMs`; throws with `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 90_000,
  everyMs = 400,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The first history entry of the rollout that matches, once it is there. */
export function entry(
  stack: Stack,
  id: string,
  match: (h: HistoryEntry) => boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<HistoryEntry> {
  return until(`${id}: ${what}`, async () => (await stack.store.history(id)).find(match), timeoutMs);
}

/** The rollout once `done` holds (polled gently: many rollouts wait at once on a shared machine). */
export function state(
  stack: Stack,
  id: string,
  done: (r: Rollout) => boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<Rollout> {
  let last: Rollout | null = null;
  return until(
    `${id}: ${what}`,
    async () => {
      last = await stack.store.get(id);
      return last !== null && done(last) ? last : null;
    },
    timeoutMs,
  ).catch(async (error: Error) => {
    const outline = await historyOutline(stack, id);
    throw new Error(`${error.message}; last: ${JSON.stringify(last?.status ?? null)}; history: ${outline}`);
  });
}

/** The entry that records a result of `hook` at `point`, and that result. */
export function hookEntry(
  stack: Stack,
  id: string,
  point: HookPoint,
  hook: string,
  event?: HistoryEntry['event'],
  timeoutMs?: number,
): Promise<{ entry: HistoryEntry; result: HookResult }> {
  const resultOf = (h: HistoryEntry) => h.hooks?.find((x) => x.point === point && x.hook === hook);
  return entry(
    stack,
    id,
    (h) => resultOf(h) !== undefined && (event === undefined || h.event === event),
    `a ${event ?? 'history'} entry with the ${point} hook ${hook}`,
    timeoutMs,
  ).then(
    (found) => {
      const result = resultOf(found);
      if (result === undefined) throw new Error('unreachable: the entry was matched on its result');
      return { entry: found, result };
    },
    async (error: Error) => {
      throw new Error(`${error.message}; history: ${await historyOutline(stack, id)}`);
    },
  );
}

/** The lifecycle event published for the history entry, once it has arrived. */
export function eventFor(stack: Stack, id: string, h: HistoryEntry) {
  return until(`${id}: the lifecycle event of version ${h.version} (${h.event})`, () =>
    eventsOf(stack, id).find((e) => e.version === h.version),
  );
}

export function control(stack: Stack, rolloutId: string, command: 'abort' | 'promote', reason: string) {
  return stack.controller.publish(TOPICS.control, { rolloutId, command, actor: 'e2e', reason });
}

/** The policy raiseAlert's incidents come from: configure it (KNOWN_ALERT_POLICIES) on the stack. */
export const HOOKS_ALERT_POLICY = 'e2e canary 5xx';

let incidents = 0;
/** An open Monitoring incident of HOOKS_ALERT_POLICY naming the rollout by label (the v1.2 notification shape). */
export function raiseAlert(stack: Stack, rolloutId: string, app: DemoApp): Promise<string> {
  incidents += 1;
  return stack.controller.publish(TOPICS.alerts, {
    version: '1.2',
    incident: {
      incident_id: `hooks-${rolloutId}-${incidents}`,
      state: 'open',
      policy_name: HOOKS_ALERT_POLICY,
      policy_user_labels: { rollout_id: rolloutId },
      summary: `5xx ratio of ${app.canaryService} above 10%`,
    },
  });
}

/** The canary's weight on the managed rule as the route shows it now. */
export function canaryOnRoute(stack: Stack, app: DemoApp): number {
  const destinations = stack.route(app).rules?.[1]?.action?.destinations ?? [];
  const canary = destinations.find((d) => d.serviceName === app.canary);
  if (canary === undefined) return 0;
  return destinations.length === 1 ? 100 : (canary.weight ?? 0);
}

/** Whether a rollout's route carries no canary traffic (the weight written, and safe). */
export function routeSafe(stack: Stack, app: DemoApp): boolean {
  return canaryOnRoute(stack, app) === 0;
}

/** Every call must carry a Google-signed token for the target's origin from the hooks account. */
export function tokenProblems(calls: readonly RecordedCall[], origin: string, account: string): string[] {
  return calls.flatMap((c, i) => {
    const t = c.token;
    const ok = t.present && t.verified && t.audience === origin && t.email === account;
    return ok ? [] : [`call ${i}: ${JSON.stringify(t)}`];
  });
}

/** A result as the test expects it. */
export interface ExpectedResult {
  readonly status: HookStatus;
  readonly code: number | null;
  readonly excerpt: RegExp;
  readonly attempts: number;
}

/** The ERROR line a function logged for a rejected message, once it is there. */
export function rejection(stack: Stack, messageId: string): Promise<LogLine> {
  return until(`the rejection of message ${messageId}`, () =>
    stack.logs.find((l) => l.severity === 'ERROR' && l.fields['messageId'] === messageId),
  );
}

/** `count` hooks named `<prefix>-<i>` at `url`. */
export function manyHooks(prefix: string, count: number, url: string): { name: string; url: string }[] {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, url }));
}

/** The rollout's history in one line (for failure messages): event, phase, hook results. */
async function historyOutline(stack: Stack, id: string): Promise<string> {
  const history = await stack.store.history(id);
  return history
    .map((h) =>
      [h.event, h.to.phase, ...(h.hooks ?? []).map((x) => `${x.point}/${x.hook}:${x.status}`)].join(' '),
    )
    .join(' | ');
}
