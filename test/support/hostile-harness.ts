/**
 * Runs hostile inputs (hostile-inputs.ts) through the production handlers in-process, against the
 * Firestore and Pub/Sub emulators: the Pub/Sub functions get the CloudEvent, the HTTP functions a
 * real request through functions-framework's own server (its body parsers included). Records, per
 * input, the answer, the time to it and the largest log line it caused; and can snapshot every
 * Firestore document and list what was published, so a caller can tell nothing changed.
 */
import type { AddressInfo } from 'node:net';
import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { loadConfig } from '../../functions/app/config.ts';
import { createLogger } from '../../functions/app/log.ts';
import { REJECTED_EVENT_TYPE } from '../../functions/core/events.ts';
import { advanceDueHandler } from '../../functions/handlers/advance-due.ts';
import { controlHandler } from '../../functions/handlers/control.ts';
import { advanceRolloutFunction, controlHttpFunction } from '../../functions/handlers/http-functions.ts';
import { onAlertHandler } from '../../functions/handlers/on-alert.ts';
import { startRolloutHandler } from '../../functions/handlers/start-rollout.ts';
import { tickHandler } from '../../functions/handlers/tick.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { Runtime } from '../../functions/runtime.ts';
import { createRuntime } from '../../functions/wiring.ts';
import { newRollout } from './fixtures.ts';
import type { Category, Entry, HostileInput, PubSubEntry } from './hostile-inputs.ts';
import { HOSTILE_POLICY, VICTIM } from './hostile-inputs.ts';

export interface Outcome {
  readonly entry: Entry;
  readonly category: Category;
  /** HTTP status; for a Pub/Sub function 200 when it returned (acknowledged), 500 when it threw. */
  readonly status: number;
  readonly ms: number;
  readonly logBytes: number;
  readonly thrown: string | null;
}

export interface Published {
  readonly rejected: number;
  readonly other: readonly string[];
}

export interface Harness {
  run(input: HostileInput): Promise<Outcome>;
  /** Every Firestore document of the project, path → data as JSON. */
  snapshot(): Promise<Map<string, string>>;
  /** Everything published to the events and advance topics so far. */
  published(): Promise<Published>;
  readonly largestLine: () => string;
  close(): Promise<void>;
}

export interface HarnessHosts {
  readonly project: string;
  readonly firestoreHost: string;
  readonly pubsubHost: string;
}

type EventHandler = (event: CloudEvent<unknown>) => Promise<void>;

async function subscribe(pubsub: PubSub, topic: string, into: Message[]): Promise<void> {
  const [exists] = await pubsub.topic(topic).exists();
  if (!exists) await pubsub.createTopic(topic);
  const name = `${topic}-hostile`;
  const [subExists] = await pubsub.subscription(name).exists();
  const [sub] = subExists ? [pubsub.subscription(name)] : await pubsub.topic(topic).createSubscription(name);
  sub.on('message', (m: Message) => {
    into.push(m);
    m.ack();
  });
}

async function listen(name: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function collect(db: Firestore, refs: DocumentReference[], out: Map<string, string>): Promise<void> {
  for (const ref of refs) {
    const doc = await ref.get();
    if (doc.exists) out.set(ref.path, JSON.stringify(doc.data()));
    for (const sub of await ref.listCollections()) await collect(db, await sub.listDocuments(), out);
  }
}

/** The victim rollouts: active, created in the future so no tick finds them due meanwhile. */
async function seed(rt: Runtime): Promise<void> {
  const later = Date.now() + 7 * 24 * 3600 * 1000;
  for (const [id, driver] of [
    [VICTIM, 'workflow'],
    ['victim-2', 'scheduler'],
  ] as const) {
    if ((await rt.store.get(id)) !== null) continue;
    const { rollout, entry } = newRollout(
      id,
      { driver, route: `projects/demo-project/locations/global/httpRoutes/${id}` },
      later,
    );
    await rt.store.create(rollout, entry);
  }
}

export async function startHarness(hosts: HarnessHosts): Promise<Harness> {
  process.env['PUBSUB_EMULATOR_HOST'] = hosts.pubsubHost;
  const pubsub = new PubSub({ projectId: hosts.project, apiEndpoint: hosts.pubsubHost });
  const received: Message[] = [];
  for (const topic of [TOPICS.events, TOPICS.advance]) await subscribe(pubsub, topic, received);
  let current = 0;
  let largest = '';
  const log = createLogger({}, (line) => {
    const bytes = Buffer.byteLength(line);
    current = Math.max(current, bytes);
    if (bytes > Buffer.byteLength(largest)) largest = line;
  });
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: hosts.project,
    ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
    FIRESTORE_EMULATOR_HOST: hosts.firestoreHost,
    // The corpus's incidents name a configured policy, so they go on to the alert path; no
    // Monitoring runs here, so no policy is looked up by its labels.
    KNOWN_ALERT_POLICIES: HOSTILE_POLICY,
    ALERT_POLICIES_BY_LABEL: 'false',
  });
  const rt = createRuntime(config, log);
  await seed(rt);
  const handlers: Record<PubSubEntry, EventHandler> = {
    startRollout: startRolloutHandler(rt),
    control: controlHandler(rt),
    onAlert: onAlertHandler(rt),
    tick: tickHandler(rt),
    advanceDue: advanceDueHandler(rt),
  };
  http('controlHttp', controlHttpFunction(rt));
  http('advanceRollout', advanceRolloutFunction(rt));
  const servers = {
    controlHttp: await listen('controlHttp'),
    advanceRollout: await listen('advanceRollout'),
  };
  const db = createFirestore({ projectId: hosts.project, emulatorHost: hosts.firestoreHost });

  async function answer(input: HostileInput): Promise<{ status: number; thrown: string | null }> {
    if ('method' in input) {
      const server = servers[input.entry];
      const response = await fetch(`${server.url}${input.path}`, {
        method: input.method,
        headers: { 'content-type': input.contentType },
        ...(input.body === null ? {} : { body: new Uint8Array(input.body) }),
      });
      await response.arrayBuffer();
      return { status: response.status, thrown: null };
    }
    try {
      await handlers[input.entry](input.event as CloudEvent<unknown>);
      return { status: 200, thrown: null };
    } catch (error) {
      return { status: 500, thrown: (error as Error).message.slice(0, 300) };
    }
  }

  return {
    async run(input) {
      current = 0;
      const started = performance.now();
      const { status, thrown } = await answer(input);
      const ms = performance.now() - started;
      return { entry: input.entry, category: input.category, status, ms, logBytes: current, thrown };
    },
    async snapshot() {
      const out = new Map<string, string>();
      for (const col of await db.listCollections()) await collect(db, await col.listDocuments(), out);
      return out;
    },
    async published() {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const types = received.map((m) => {
        try {
          return String((JSON.parse(m.data.toString('utf8')) as { type?: unknown }).type);
        } catch {
          return 'not JSON';
        }
      });
      return {
        rejected: types.filter((t) => t === REJECTED_EVENT_TYPE).length,
        other: types.filter((t) => t !== REJECTED_EVENT_TYPE),
      };
    },
    largestLine: () => largest,
    async close() {
      await servers.controlHttp.close();
      await servers.advanceRollout.close();
      for (const topic of [TOPICS.events, TOPICS.advance])
        await pubsub.subscription(`${topic}-hostile`).close();
      await pubsub.close();
      await db.terminate();
    },
  };
}
