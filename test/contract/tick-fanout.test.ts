/**
 * The tick's fan-out against Google's Firestore and Pub/Sub emulators, through the production
 * handlers, runtime and adapters: N due rollouts are read a page at a time and become N messages
 * on rollout-advance; each message advances its rollout exactly once however often it is
 * delivered, from the copy it carries (one Firestore document read per advance: the tick's query);
 * a message whose rollout moved on meanwhile changes nothing wrong. Reads are counted by a
 * decorator around the production FirestoreRolloutStore.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAdvance } from '../../functions/app/advance-message.ts';
import { loadConfig } from '../../functions/app/config.ts';
import { createLogger } from '../../functions/app/log.ts';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { advanceDueHandler } from '../../functions/handlers/advance-due.ts';
import { tickHandler } from '../../functions/handlers/tick.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { Runtime } from '../../functions/runtime.ts';
import { createRuntime } from '../../functions/wiring.ts';
import { CountingStore } from '../../local/counting-store.ts';
import { cloudEventOf } from '../../local/pubsub-delivery.ts';
import { testFirestore } from '../support/firestore.ts';
import { newRollout, routeName } from '../support/fixtures.ts';

const PROJECT = 'contract-tick-fanout';
const N = 23;
const PAGE = 5;
const T0 = Date.now() - 60_000;
const GATE_FIRST: RolloutRequestInput['steps'] = [
  { gate: 'manual', note: 'look first' },
  { weight: 50, hold: '2m' },
];
const SUBSCRIPTION = `${TOPICS.advance}-pull`;

const fs = testFirestore(PROJECT);
const lines: Record<string, unknown>[] = [];
let pubsub: PubSub;
let counting: CountingStore;
let rt: Runtime;
let received: Message[] = [];

beforeAll(async () => {
  process.env['PUBSUB_EMULATOR_HOST'] = inject('pubsubHost');
  await fs.clear();
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: inject('pubsubHost') });
  for (const topic of [TOPICS.advance, TOPICS.events]) {
    const [exists] = await pubsub.topic(topic).exists();
    if (!exists) await pubsub.createTopic(topic);
  }
  const [sub] = await pubsub.topic(TOPICS.advance).createSubscription(SUBSCRIPTION);
  sub.on('message', (m: Message) => {
    received.push(m);
    m.ack();
  });
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: PROJECT,
    ALLOWED_ROUTES: `projects/${PROJECT}/locations/global/httpRoutes/*`,
    FIRESTORE_EMULATOR_HOST: fs.host,
    // Small pages: the tick must read several to find every due rollout.
    TICK_BATCH: String(PAGE),
  });
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  rt = createRuntime(config, log, (store) => {
    counting = new CountingStore(store);
    return counting;
  });
});

afterAll(async () => {
  await pubsub.subscription(SUBSCRIPTION).close();
  await pubsub.close();
  await fs.close();
});

async function createDue(id: string, driver: 'scheduler' | 'workflow' = 'scheduler'): Promise<void> {
  const { rollout, entry } = newRollout(id, { driver, route: routeName(id), steps: GATE_FIRST }, T0);
  await rt.store.create(rollout, entry);
}

const tickEvent = (id: string): CloudEvent<unknown> =>
  cloudEventOf(
    { id, data: Buffer.from('{"source":"test"}'), attributes: {}, publishTime: new Date() },
    PROJECT,
    TOPICS.tick,
  );

/** Runs the tick and collects the messages it published. */
async function runTick(expected: number): Promise<Message[]> {
  received = [];
  await tickHandler(rt)(tickEvent(`tick-${Date.now()}`));
  await expect.poll(() => received.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(expected);
  // Anything more would arrive right behind.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return received;
}

const deliver = (m: Message) =>
  advanceDueHandler(rt)(
    cloudEventOf(
      { id: m.id, data: m.data, attributes: m.attributes, publishTime: m.publishTime },
      PROJECT,
      TOPICS.advance,
    ),
  );

/** The stored rollout, without `routes` (the adapter's field for `history --route`, never read back). */
const stored = async (id: string) => {
  const { routes: _routes, ...rollout } = (await fs.db.doc(`rollouts/${id}`).get()).data() ?? {};
  return rollout;
};

const ids = Array.from({ length: N }, (_, i) => `fan-${String(i).padStart(2, '0')}`);
let messages: Message[] = [];

describe('the tick fans out over Pub/Sub', () => {
  it('reads every page of due rollouts and publishes one message per rollout, carrying it as read', async () => {
    for (const id of ids) await createDue(id);
    await createDue('fan-workflow', 'workflow'); // due, but its workflow has the grace period
    counting.reset();
    messages = await runTick(N);
    const reads = counting.reset();
    expect(messages.map((m) => m.attributes['rolloutId']).sort()).toEqual(ids);
    for (const m of messages) {
      const parsed = parseAdvance(m.data);
      if (parsed.kind !== 'due') throw new Error(`unexpected ${parsed.kind} message`);
      expect(parsed.rollout).toEqual(await stored(parsed.rolloutId));
    }
    // The due query returned each due rollout once, over ceil((N + 1) / PAGE) pages; the waiting
    // and stray-operations queries found nothing (one read billed each); the outbox drain read the
    // N + 1 creation events nobody had published (created directly in the store), in one page.
    expect(reads).toEqual({
      gets: 0,
      queried: N + 1 + 2 + (N + 1),
      queries: Math.ceil((N + 1) / PAGE) + 3,
    });
    expect(lines.find((l) => String(l['message']).startsWith('tick handed out'))).toMatchObject({
      due: N + 1,
      published: N,
      failed: 0,
      skipped: 1,
    });
  });

  it('advances each rollout once from the copy its message carries, reading nothing more', async () => {
    await Promise.all(messages.map(deliver));
    expect(counting.reset()).toEqual({ gets: 0, queried: 0, queries: 0 });
    for (const id of ids) {
      const history = await rt.store.history(id);
      expect(history.map((h) => [h.version, h.event, h.actor])).toEqual([
        [1, 'rollout.created', 'test'],
        [2, 'rollout.paused', 'scheduler'],
      ]);
    }
  });

  it('a message delivered again — twice at once — changes nothing, and reads no rollout to tell', async () => {
    counting.reset();
    await Promise.all([...messages, ...messages].map(deliver));
    expect(counting.reset()).toEqual({ gets: 0, queried: 0, queries: 0 });
    for (const id of ids) {
      expect((await fs.db.collection(`rollouts/${id}/history`).get()).size).toBe(2);
      expect((await stored(id))?.['version']).toBe(2);
      expect((await fs.db.doc(`processedMessages/advance:${id}:1`).get()).exists).toBe(true);
    }
    expect(lines.filter((l) => l['severity'] === 'ERROR')).toEqual([]);
  });

  it('hands nothing out again once they are advanced', async () => {
    received = [];
    await tickHandler(rt)(tickEvent('tick-after'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(received).toEqual([]);
  });

  it('a stale message (an operator moved the rollout on meanwhile) changes nothing wrong', async () => {
    await createDue('fan-stale');
    const [message] = await runTick(1);
    if (message === undefined) throw new Error('no message');
    expect(message.attributes['rolloutId']).toBe('fan-stale');
    const moved = await rt.executor.run('fan-stale', {
      type: 'control',
      command: 'pause',
      actor: 'operator:ann',
      note: 'not today',
    });
    expect(moved?.rollout.status).toMatchObject({ phase: 'Paused', reason: { kind: 'operator' } });
    const before = await rt.store.history('fan-stale');
    counting.reset();
    await deliver(message);
    // The copy was refused by the version fence; the rollout was read once, as it is now.
    expect(counting.reset().gets).toBe(1);
    // Decided again on the rollout as the operator left it: still their pause, nothing more.
    expect(await rt.store.history('fan-stale')).toEqual(before);
    expect((await rt.store.get('fan-stale'))?.status).toMatchObject({
      phase: 'Paused',
      reason: { kind: 'operator', actor: 'operator:ann' },
    });
  });
});
