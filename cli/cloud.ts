/**
 * How rolloutctl reaches the controller's project: Application Default Credentials, or the
 * local cloud when PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are set (`source .local/env.sh`).
 */
import { PubSub } from '@google-cloud/pubsub';
import { createFirestore } from '../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../functions/adapters/firestore-store.ts';
import { type CommandContext, stringOption, UsageError } from './command.ts';
import { DEFAULT_DEADLINE_MS, deadlineMs, withDeadline } from './deadline.ts';

export function projectOf(ctx: CommandContext): string {
  const p = stringOption(ctx, 'project') ?? ctx.io.env['GOOGLE_CLOUD_PROJECT'];
  if (!p) throw new UsageError('no project: pass --project P or set GOOGLE_CLOUD_PROJECT');
  return p;
}

/** Publishes `data` as JSON; gives up after `deadline` ms (exit 5) without waiting for the client to close. */
export async function publish(
  projectId: string,
  topic: string,
  data: unknown,
  deadline: number = DEFAULT_DEADLINE_MS,
): Promise<string> {
  const pubsub = new PubSub({ projectId });
  let timedOut = false;
  try {
    const published = pubsub.topic(topic).publishMessage({ json: data });
    return await withDeadline(published, deadline, `Pub/Sub (publishing to ${topic})`, () => {
      timedOut = true;
    });
  } finally {
    if (!timedOut) await pubsub.close();
  }
}

export interface OpenStore {
  readonly store: FirestoreRolloutStore;
  close(): Promise<void>;
}

export function openStore(ctx: CommandContext, projectId: string): OpenStore {
  const emulatorHost = ctx.io.env['FIRESTORE_EMULATOR_HOST'];
  const databaseId = stringOption(ctx, 'database') ?? ctx.io.env['FIRESTORE_DATABASE'];
  const db = createFirestore({
    projectId,
    ...(databaseId ? { databaseId } : {}),
    ...(emulatorHost ? { emulatorHost } : {}),
  });
  // Each store call gives up after the deadline; the client is then left to the process's exit
  // (terminating it would wait for the call still retrying inside it).
  let timedOut = false;
  const store = withCallDeadline(new FirestoreRolloutStore(db), deadlineMs(ctx.io.env), () => {
    timedOut = true;
  });
  return { store, close: async () => (timedOut ? undefined : db.terminate()) };
}

/** The store with every method call raced against the deadline. */
function withCallDeadline(store: FirestoreRolloutStore, ms: number, late: () => void): FirestoreRolloutStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        withDeadline(Promise.resolve(value.apply(target, args)), ms, 'Firestore', late);
    },
  });
}

/** Runs `work` with the project's store and always closes it. */
export async function withStore<T>(ctx: CommandContext, work: (s: OpenStore) => Promise<T>): Promise<T> {
  const s = openStore(ctx, projectOf(ctx));
  try {
    return await work(s);
  } finally {
    await s.close();
  }
}
