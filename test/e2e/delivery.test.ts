/**
 * At-least-once delivery and bad input, end to end: redeliveries create one rollout and one
 * workflow execution; malformed, hostile or oversized messages on every topic and routes outside
 * the allowlist change nothing, log one structured error each and are acknowledged (not
 * redelivered), and leave the function processes working; transient route API failures are
 * retried until the step completes; a message that keeps failing transiently is dead-lettered
 * after the subscription's delivery attempts instead of being redelivered forever.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { MAX_MESSAGE_BYTES } from '../../functions/app/pubsub-message.ts';
import { MAX_REQUEST_BYTES } from '../../functions/core/request.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { ApiError } from '../../local/network-services/api-error.ts';
import { pushTo, type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
const PROJECT = 'e2e-delivery';

beforeAll(async () => {
  // `poison` is only used by the dead-letter test: its route answers 503 to every read there.
  stack = await startStack({
    project: PROJECT,
    apps: ['checkout', 'cart', 'poison'],
    // The hand-written incidents below come from these (configured) policies.
    controller: { env: { KNOWN_ALERT_POLICIES: 'e2e-smuggled,e2e-real' } },
  });
});
afterAll(() => stack.stop());

async function withDb<T>(work: (db: Firestore) => Promise<T>): Promise<T> {
  const db = createFirestore({ projectId: PROJECT, emulatorHost: stack.cloud.firestoreHost });
  try {
    return await work(db);
  } finally {
    await db.terminate();
  }
}

const rolloutCount = () => withDb(async (db) => (await db.collection('rollouts').count().get()).data().count);

/** Paths of every key named `name` in a value, own or inherited (a replaced prototype shows too). */
function keysNamed(value: unknown, name: string, path = '$'): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const found: string[] = [];
  for (const key in value) {
    if (key === name) found.push(`${path}.${key}`);
    found.push(...keysNamed((value as Record<string, unknown>)[key], name, `${path}.${key}`));
  }
  return found;
}

/** Every stored rollout and history document of the project, as plain data. */
const storedDocuments = () =>
  withDb(async (db) => {
    const [rollouts, history] = await Promise.all([
      db.collection('rollouts').get(),
      db.collectionGroup('history').get(),
    ]);
    return [...rollouts.docs, ...history.docs].map((d) => ({ path: d.ref.path, data: d.data() }));
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('delivery semantics', () => {
  it('turns one request delivered 20 times at once into one rollout and one workflow execution', async () => {
    const app = stack.app('checkout');
    const body = JSON.stringify(stack.request(app, { steps: [{ weight: 10, hold: '10m' }] }));
    const start = stack.controller.functions.get('startRollout')?.url ?? '';
    const deliver = () => pushTo(start, PROJECT, TOPICS.requests, body, 'redelivered-1');
    const answers = await Promise.all(Array.from({ length: 20 }, deliver));
    // One delivery creates the rollout and starts its execution; a copy that arrives before the
    // execution is recorded asks Pub/Sub for a later delivery (500) rather than starting another.
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 204 || s === 500)).toBe(true);
    expect(statuses).toContain(204);
    // The same request published again (a new message, same content) is refused by the route lock.
    await stack.controller.publish(TOPICS.requests, JSON.parse(body));

    const r = await stack.waitFor(
      'rollout-redelivered-1',
      (x) => x.driver.kind === 'workflow' && x.driver.execution !== null,
    );
    // Pub/Sub delivers the copies that asked for it again: now they are plain repeats.
    const again = await Promise.all(statuses.filter((s) => s !== 204).map(deliver));
    expect(again.map((a) => a.status)).toEqual(again.map(() => 204));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const executions = stack.controller.workflows.executions
      .list()
      .filter((e) => (e.argument ?? '').includes(r.id));
    expect(executions).toHaveLength(1);
    const history = await stack.store.history(r.id);
    expect(history.filter((h) => h.event === 'rollout.created')).toHaveLength(1);
    expect(history.filter((h) => h.event === 'rollout.driver_attached')).toHaveLength(1);
    expect(
      stack.logs.some(
        (l) =>
          l.severity === 'ERROR' &&
          l.message.includes('already has an active rollout (rollout-redelivered-1)'),
      ),
    ).toBe(true);

    await stack.controller.publish(TOPICS.control, {
      rolloutId: r.id,
      command: 'abort',
      actor: 'e2e',
      reason: 'done',
    });
    await stack.waitForTerminal(r.id);
  });

  it('acknowledges bad input on every topic with one structured error and no state change', async () => {
    const mark = stack.logs.length;
    const since = () => stack.logs.slice(mark);
    const before = await rolloutCount();
    const app = stack.app('cart');
    // Started once the bad input has been handled, to show the functions still work.
    const after = 'delivery-after-hostile';
    const valid = JSON.stringify(stack.request(app));
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const tooLarge = JSON.stringify({ ...stack.request(app), requestedBy: 'x'.repeat(MAX_REQUEST_BYTES) });
    // Data sent only as attributes (a message must carry data or attributes).
    const noData = { attributes: { route: app.route, note: 'the request went into the attributes' } };
    type Bad = string | Buffer | { readonly attributes: Record<string, string> };
    const bad: Record<string, Bad[]> = {
      [TOPICS.requests]: [
        'not json at all',
        '{"route": 42}',
        JSON.stringify({ ...stack.request(app), extra: true }),
        JSON.stringify({
          ...stack.request(app),
          steps: [
            { weight: 50, hold: '1m' },
            { weight: 20, hold: '1m' },
          ],
        }),
        tooLarge,
        JSON.stringify({
          ...stack.request(app),
          route: 'projects/e2e-delivery/locations/global/httpRoutes/not-allowed',
        }),
        JSON.stringify({ ...stack.request(app), route: 'projects/../locations/global/httpRoutes/checkout' }),
        '{"__proto__": {"polluted": true}, "route": "x"}',
        // Otherwise valid requests carrying prototype keys, at the top and nested.
        `{"__proto__": {"polluted": true}, ${valid.slice(1)}`,
        JSON.stringify({ ...stack.request(app), constructor: { prototype: { polluted: true } } }),
        valid.replace('"analysis":{', '"analysis":{"__proto__":{"polluted":true},'),
        deep,
        noData,
      ],
      [TOPICS.control]: [
        'garbage',
        '{"rolloutId": "nope", "command": "pause", "actor": "e2e"}',
        '{"rolloutId": "x", "command": "rm -rf", "actor": "e2e"}',
        '{"command": "abort"}',
        '{"__proto__": {"polluted": true}, "rolloutId": "x", "command": "abort", "actor": "e2e"}',
        '{"constructor": {"prototype": {"polluted": true}}, "rolloutId": "x", "command": "abort", "actor": "e2e"}',
        // Large, but under the transport limit: the schema bounds every field.
        JSON.stringify({ rolloutId: 'x', command: 'abort', actor: 'e2e', reason: 'x'.repeat(100_000) }),
        deep,
        noData,
      ],
      [TOPICS.alerts]: [
        '<html/>',
        '{"version": "1.2", "incident": {"state": "burning"}}',
        // Were these to reach Object.prototype, an incident without labels would select the
        // rollout started after them (checked below).
        `{"__proto__": {"rollout_id": "${after}"}, "incident": {"state": "burning"}}`,
        `{"incident": {"constructor": {"prototype": {"rollout_id": "${after}"}}, "state": "burning"}}`,
        `{"incident": {"state": "burning", "policy_user_labels": {"__proto__": {"rollout_id": "${after}"}}}}`,
        JSON.stringify({ version: '1.2', incident: { state: 'open', summary: 'x'.repeat(100_000) } }),
        deep,
        noData,
      ],
    };
    // Only the tick publishes here; anything else is refused before a rollout is looked up.
    const copy = JSON.stringify({ kind: 'due', rolloutId: 'nope', version: 1, actor: 'e2e', rollout: null });
    bad[TOPICS.advance] = [
      'garbage',
      copy.replace('"version":1', '"version":"1"'),
      copy.replace('"rollout":null', '"rollout":{"id":"other","version":1}'),
      copy.replace('"kind":"due"', '"kind":"sweep"'),
      `{"__proto__": {"polluted": true}, ${copy.slice(1)}`,
      copy.replace('"rollout":null', `"rollout":null,"padding":"${'x'.repeat(100_000)}"`),
      deep,
      noData,
    ];
    // The tick function reads nothing from its message: whatever the body, it is just a tick.
    const ticks: Bad[] = [
      '\u0000\u0001binary',
      Buffer.from([0xff, 0xfe, 0xfd, 0x00]),
      'not json',
      '{"__proto__": {"polluted": true}}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      deep,
      'x'.repeat(200_000),
      noData,
    ];
    // Bigger than any function accepts: discarded before the message is decoded.
    const overLimit = (field: string) => JSON.stringify({ [field]: 'x'.repeat(MAX_MESSAGE_BYTES + 1024) });
    const oversized: Record<string, { topic: string; data: string }> = {
      startRollout: { topic: TOPICS.requests, data: overLimit('requestedBy') },
      control: { topic: TOPICS.control, data: overLimit('reason') },
      onAlert: { topic: TOPICS.alerts, data: overLimit('incident') },
      tick: { topic: TOPICS.tick, data: overLimit('tick') },
      advanceDue: { topic: TOPICS.advance, data: overLimit('rollout') },
    };

    const publishRaw = (topic: string, m: Bad) =>
      stack.controller.pubsub
        .topic(topic)
        .publishMessage(typeof m === 'string' || Buffer.isBuffer(m) ? { data: Buffer.from(m) } : m);
    const published: { topic: string; id: string }[] = [];
    let tooLargeId = '';
    for (const [topic, messages] of Object.entries(bad)) {
      for (const data of messages) {
        const id = await publishRaw(topic, data);
        published.push({ topic, id });
        if (data === tooLarge) tooLargeId = id;
      }
    }
    const tickIds: string[] = [];
    for (const data of ticks) tickIds.push(await publishRaw(TOPICS.tick, data));
    const oversizedIds: Record<string, string> = {};
    for (const [fn, { topic, data }] of Object.entries(oversized))
      oversizedIds[fn] = await publishRaw(topic, data);

    const errorsFor = (id: string) =>
      stack.logs.filter((l) => l.severity === 'ERROR' && l.fields['messageId'] === id).length;
    // An event that is not a usable message is discarded before it is decoded (logged with its id).
    const discarded = (fn: string) =>
      since().filter(
        (l) =>
          l.fn === fn &&
          l.severity === 'ERROR' &&
          l.message.includes('discarded an event that is not a usable Pub/Sub message'),
      );
    await expect
      .poll(
        () =>
          published.filter((p) => errorsFor(p.id) > 0).length +
          Object.keys(oversized).filter((fn) => discarded(fn).length > 0).length,
        { timeout: 20_000 },
      )
      .toBe(published.length + Object.keys(oversized).length);
    // The tick function answers the push of any body with 204 (acknowledged).
    const tickUrl = stack.controller.functions.get('tick')?.url ?? '';
    const tickBodies = ticks.filter((m): m is string => typeof m === 'string');
    const pushed = await Promise.all(
      tickBodies.map((m, i) => pushTo(tickUrl, PROJECT, TOPICS.tick, m, `hostile-tick-${i}`)),
    );
    expect(pushed.map((r) => r.status)).toEqual(tickBodies.map(() => 204));
    // Give the emulator time to redeliver anything that was not acknowledged.
    await sleep(4000);
    const deliveries = (id: string) =>
      stack.logs.filter((l) => l.fields['messageId'] === id && l.severity !== 'DEBUG').length;
    for (const p of published) {
      expect({ ...p, errors: errorsFor(p.id), lines: deliveries(p.id) }).toEqual({
        ...p,
        errors: 1,
        lines: 1,
      });
    }
    const failures = (id: string) =>
      stack.logs.filter(
        (l) => l.fields['messageId'] === id && (l.severity === 'ERROR' || l.severity === 'WARNING'),
      );
    for (const id of [...tickIds, ...tickBodies.map((_, i) => `hostile-tick-${i}`)]) {
      expect({ id, failures: failures(id) }).toEqual({ id, failures: [] });
    }
    for (const fn of Object.keys(oversized)) {
      const lines = discarded(fn);
      expect({ fn, discarded: lines.length }).toEqual({ fn, discarded: 1 });
      expect(lines[0]?.fields).toMatchObject({
        messageId: oversizedIds[fn],
        code: 'INVALID_EVENT',
        problems: [{ field: 'message.data', rule: `must be at most ${MAX_MESSAGE_BYTES} bytes` }],
      });
    }
    // The request just over its own limit is refused for its size, before it is parsed.
    expect(
      stack.logs.find((l) => l.severity === 'ERROR' && l.fields['messageId'] === tooLargeId)?.message,
    ).toContain(`is more than ${MAX_REQUEST_BYTES}`);
    // A refused advance message is echoed in its log line, boundedly.
    const echoes = stack.logs.filter((l) => l.fn === 'advanceDue' && typeof l.fields['excerpt'] === 'string');
    expect(echoes.length).toBe(bad[TOPICS.advance]?.length);
    expect(echoes.every((l) => String(l.fields['excerpt']).length <= 121)).toBe(true);
    expect(echoes.map((l) => l.fields['excerpt'])).toContain('garbage');
    const errors = stack.logs.filter((l) => l.severity === 'ERROR').map((l) => l.fields);
    expect(errors.every((f) => typeof f['code'] === 'string' && typeof f['hint'] === 'string')).toBe(true);
    expect(
      stack.logs.some(
        (l) => l.severity === 'ERROR' && String(l.message).includes('is not managed by this controller'),
      ),
    ).toBe(true);
    expect(await rolloutCount()).toBe(before);
    expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);

    // The hostile messages were parsed in the startRollout, control and onAlert processes. Had one
    // polluted Object.prototype there, every strict schema in that process would now find an
    // unknown key in valid input, and every incident would carry the rollout_id label: valid
    // messages to the same processes must still work, and only the alert naming the rollout may
    // roll it back.
    const id = after;
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: id, steps: [{ weight: 10, hold: '10m' }] }),
    );
    await stack.waitFor(
      id,
      (r) => r.driver.kind === 'workflow' && r.driver.execution !== null && r.status.phase === 'Progressing',
    );
    const incident = (policy: string, labels: string) =>
      `{"version": "1.2", "incident": {"incident_id": "${policy}-1", "state": "open", "policy_name": "${policy}", "summary": "e2e", "policy_user_labels": ${labels}}}`;
    // A label smuggled in through __proto__ must not select the rollout.
    const smuggled = await publishRaw(
      TOPICS.alerts,
      incident('e2e-smuggled', `{"__proto__": {"rollout_id": "${id}"}}`),
    );
    await expect
      .poll(() =>
        stack.logs.some(
          (l) => l.fields['messageId'] === smuggled && l.message.includes('matches no active rollout'),
        ),
      )
      .toBe(true);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: id,
      command: 'pause',
      actor: 'e2e',
      reason: 'after hostile input',
    });
    await stack.waitFor(id, (r) => r.status.phase === 'Paused');
    await publishRaw(TOPICS.alerts, incident('e2e-real', `{"rollout_id": "${id}"}`));
    expect((await stack.waitForTerminal(id)).status.phase).toBe('RolledBack');
    const history = await stack.store.history(id);
    expect(history.some((h) => h.reason.includes('alert e2e-real opened'))).toBe(true);
    expect(history.some((h) => h.reason.includes('e2e-smuggled'))).toBe(false);
    expect(since().filter((l) => l.severity === 'ERROR' && l.fields['rolloutId'] === id)).toEqual([]);
    const documents = await storedDocuments();
    expect(documents.map((d) => d.path)).toContain(`rollouts/${id}`);
    expect(documents.flatMap((d) => keysNamed(d.data, 'polluted', d.path))).toEqual([]);
  });

  it('starts the workflow execution on redelivery when the first start failed', async () => {
    const app = stack.app('checkout');
    stack.controller.workflows.failNextCreate(503, 2);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'delivery-start-503', steps: [{ weight: 10, hold: '10m' }] }),
    );
    // The workflow execution started on a redelivery drives the rollout out of Pending.
    const r = await stack.waitFor(
      'delivery-start-503',
      (x) => x.driver.kind === 'workflow' && x.driver.execution !== null && x.status.phase !== 'Pending',
    );
    const executions = stack.controller.workflows.executions
      .list()
      .filter((e) => (e.argument ?? '').includes(r.id));
    expect(executions).toHaveLength(1);
    expect(stack.logs.some((l) => l.severity === 'WARNING' && l.message.includes('injected HTTP 503'))).toBe(
      true,
    );
    const history = await stack.store.history(r.id);
    expect(history.filter((h) => h.event === 'rollout.driver_attached')).toHaveLength(1);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: r.id,
      command: 'abort',
      actor: 'e2e',
      reason: 'done',
    });
    await stack.waitForTerminal(r.id);
  });

  it('retries route API 503s and then completes the step', async () => {
    const app = stack.app('cart');
    stack.load(app);
    stack.cloud.networkServices.store.failNext('patch', 503, 2);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'delivery-503', steps: [{ weight: 25, hold: '0s' }] }),
    );
    const done = await stack.waitForTerminal('delivery-503');
    expect(done.status.phase).toBe('Succeeded');
    const history = await stack.store.history('delivery-503');
    const retries = history.filter((h) => h.event === 'rollout.weights_retrying');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.some((h) => h.reason.includes('transient'))).toBe(true);
    expect(history.filter((h) => h.event === 'rollout.weights_live')).toHaveLength(1);
  });

  it('dead-letters a request that keeps failing transiently instead of redelivering it forever', async () => {
    const app = stack.app('poison');
    const before = await rolloutCount();
    // Every read of this app's route answers 503 (other routes are untouched) until removed.
    const reads: string[] = [];
    const removeFault = stack.cloud.networkServices.store.beforeRequest('get', (resource) => {
      if (resource !== app.route) return;
      reads.push(resource);
      throw new ApiError('UNAVAILABLE', 'The service is currently unavailable.');
    });
    const deadLetters = stack.controller.pubsub.subscription(stack.controller.deadLetterSubscription);
    const arrived: Message[] = [];
    const onMessage = (m: Message) => {
      arrived.push(m);
      m.ack();
    };
    deadLetters.on('message', onMessage);
    try {
      const body = JSON.stringify(
        stack.request(app, { rolloutId: 'delivery-poison', steps: [{ weight: 10, hold: '10m' }] }),
      );
      const id = await stack.controller.pubsub
        .topic(TOPICS.requests)
        .publishMessage({ data: Buffer.from(body), attributes: { case: 'poison' } });
      const dead = () => arrived.filter((m) => m.attributes['case'] === 'poison');
      await expect.poll(() => dead().length, { timeout: 35_000, interval: 250 }).toBe(1);
      const letter = dead()[0];
      expect(letter?.data.toString('utf8')).toBe(body);
      // Pub/Sub says where the message came from and how often it was tried.
      expect(letter?.attributes).toMatchObject({
        case: 'poison',
        CloudPubSubDeadLetterSourceSubscription: `push-${TOPICS.requests}`,
        CloudPubSubDeadLetterSourceDeliveryCount: '5',
      });

      // Every delivery failed transiently and asked for a redelivery; there were exactly as many
      // as the subscription's dead-letter policy allows (5), and none after the message left.
      const attempts = () =>
        stack.logs.filter((l) => l.fn === 'startRollout' && l.fields['messageId'] === id);
      const warnings = () => attempts().filter((l) => l.severity === 'WARNING');
      expect(warnings()).toHaveLength(5);
      for (const w of warnings()) {
        expect(w.message).toContain('HTTP 503');
        expect(w.message).toContain('Pub/Sub will redeliver');
        expect(w.fields).toMatchObject({ code: 'ROUTE_TRANSIENT', retryable: true });
      }
      expect(attempts().filter((l) => l.severity !== 'WARNING' && l.severity !== 'DEBUG')).toEqual([]);
      expect(reads.length).toBeGreaterThanOrEqual(5);
      const readsWhenDead = reads.length;
      await sleep(3000);
      expect(warnings()).toHaveLength(5);
      expect(reads).toHaveLength(readsWhenDead);
      expect(dead()).toHaveLength(1);

      expect(await stack.store.get('delivery-poison')).toBeNull();
      expect(await rolloutCount()).toBe(before);
      expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    } finally {
      removeFault();
      deadLetters.removeListener('message', onMessage);
      await deadLetters.close();
    }
  });
});
