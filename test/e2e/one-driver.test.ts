/**
 * Exactly one workflow execution drives a rollout, however its request arrives: hundreds of
 * concurrent pushes of one message, hundreds of copies of one request under different message
 * ids, and both while the Workflows API fails transiently. One rollout, one execution, one
 * `driver_attached`, every step applied and confirmed once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { pushTo, type Stack, startStack } from '../support/stack.ts';

const PROJECT = 'e2e-one-driver';
const START_GRACE_MS = 1500; // 30 s of scaled time
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ project: PROJECT, apps: ['oa', 'ob', 'oc'] });
});
afterAll(() => stack.stop());

const steps = [
  { weight: 10, hold: '0s' },
  { weight: 40, hold: '0s' },
];

function request(app: DemoApp, rolloutId?: string): string {
  return JSON.stringify(stack.request(app, { ...(rolloutId ? { rolloutId } : {}), steps }));
}

/** `count` pushes of one message at once, straight to startRollout as a push subscription posts them. */
async function pushes(body: string, messageId: string, count: number): Promise<number[]> {
  const start = stack.controller.functions.get('startRollout')?.url ?? '';
  const answers = await Promise.all(
    Array.from({ length: count }, () => pushTo(start, PROJECT, TOPICS.requests, body, messageId)),
  );
  return answers.map((a) => a.status);
}

function executionsOf(id: string) {
  return stack.controller.workflows.executions.list().filter((e) => (e.argument ?? '').includes(`"${id}"`));
}

/** One rollout, one execution, one attachment, every step once — and the orphans told to stop. */
async function expectOneDriver(id: string): Promise<void> {
  const done = await stack.waitForTerminal(id, 60_000);
  expect(done.status.phase).toBe('Succeeded');
  expect(executionsOf(id)).toHaveLength(1);
  const history = await stack.store.history(id);
  const count = (event: HistoryEntry['event'], canary?: number) =>
    history.filter(
      (h) =>
        h.event === event && (canary === undefined || (h.intent?.weights ?? h.to.weights).canary === canary),
    ).length;
  expect(count('rollout.created')).toBe(1);
  expect(count('rollout.driver_attached')).toBe(1);
  for (const canary of [10, 40]) {
    expect(count('rollout.weights_applying', canary)).toBe(1);
    expect(count('rollout.weights_live', canary)).toBe(1);
  }
  expect(count('rollout.promoting')).toBe(1);
  expect(count('rollout.succeeded')).toBe(1);
}

describe('one workflow execution per rollout', () => {
  it('500 concurrent pushes of one message start one execution', async () => {
    const app = stack.app('oa');
    stack.load(app);
    const statuses = await pushes(request(app), 'burst-1', 500);
    // The creator succeeds; copies that find no execution yet ask Pub/Sub for a later delivery.
    expect(statuses.every((s) => s === 204 || s === 500)).toBe(true);
    expect(statuses.filter((s) => s === 204).length).toBeGreaterThan(0);
    await expectOneDriver('rollout-burst-1');
  });

  it('500 concurrent pushes of one message during a Workflows outage start one execution once it is back', async () => {
    const app = stack.app('ob');
    stack.load(app);
    const failures = stack.controller.workflows.executions.list().length;
    stack.controller.workflows.failNextCreate(503, 2);
    // Pub/Sub delivers the copies again: three waves of 500, each after the start grace period.
    for (let wave = 0; wave < 3; wave += 1) {
      const statuses = await pushes(request(app), 'burst-2', 500);
      expect(statuses.every((s) => s === 204 || s === 500)).toBe(true);
      const r = await stack.store.get('rollout-burst-2');
      if (r?.driver.kind === 'workflow' && r.driver.execution !== null) break;
      await new Promise((resolve) => setTimeout(resolve, START_GRACE_MS + 200));
    }
    expect(stack.logs.some((l) => l.message.includes('injected HTTP 503'))).toBe(true);
    expect(stack.controller.workflows.executions.list().length - failures).toBeGreaterThanOrEqual(1);
    await expectOneDriver('rollout-burst-2');
  });

  it('200 copies of one request under different message ids, during a Workflows outage, start one execution', async () => {
    const app = stack.app('oc');
    stack.load(app);
    stack.controller.workflows.failNextCreate(503, 3);
    const body = JSON.parse(request(app, 'copies-1')) as unknown;
    await Promise.all(Array.from({ length: 200 }, () => stack.controller.publish(TOPICS.requests, body)));
    await expectOneDriver('copies-1');
  });
});
