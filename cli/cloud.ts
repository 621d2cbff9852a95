/**
 * How rolloutctl reaches the controller's project: Application Default Credentials, or the
 * local cloud when PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are set (`source .local/env.sh`).
 */
import { PubSub } from '@google-cloud/pubsub';
import { createFirestore } from '../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../functions/adapters/firestore-store.ts';
import { type CommandContext, stringOption, UsageError } from './command.ts';

export function projectOf(ctx: CommandContext): string {
  const p = stringOption(ctx, 'project') ?? ctx.io.env['GOOGLE_CLOUD_PROJECT'];
  if (!p) throw new UsageError('no project: pass --project P or set GOOGLE_CLOUD_PROJECT');
  return p;
}

export async function publish(projectId: string, topic: string, data: unknown): Promise<string> {
  const pubsub = new PubSub({ projectId });
  try {
    return await pubsub.topic(topic).publishMessage({ json: data });
  } finally {
    await pubsub.close();
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
  return { store: new FirestoreRolloutStore(db), close: () => db.terminate() };
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
