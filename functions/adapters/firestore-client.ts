/** The Firestore client, pointed at Google or at the local emulator. */
import { Firestore } from '@google-cloud/firestore';

export interface FirestoreConnection {
  readonly projectId: string;
  readonly databaseId?: string;
  /** host:port of the Firestore emulator; production leaves it unset. */
  readonly emulatorHost?: string;
}

export function createFirestore(c: FirestoreConnection): Firestore {
  return new Firestore({
    projectId: c.projectId,
    ...(c.databaseId ? { databaseId: c.databaseId } : {}),
    ...(c.emulatorHost ? { host: c.emulatorHost, ssl: false } : {}),
    ignoreUndefinedProperties: true,
  });
}
