/** A Firestore client on the emulator for one test file, with its own project and a clean slate. */
import type { Firestore } from '@google-cloud/firestore';
import { inject } from 'vitest';
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { clearFirestore } from '../../local/emulators.ts';

export interface TestFirestore {
  readonly db: Firestore;
  readonly host: string;
  readonly projectId: string;
  clear(): Promise<void>;
  close(): Promise<void>;
}

export function testFirestore(projectId: string): TestFirestore {
  const host = inject('firestoreHost');
  const db = createFirestore({ projectId, emulatorHost: host });
  return {
    db,
    host,
    projectId,
    clear: () => clearFirestore(host, projectId),
    async close() {
      await clearFirestore(host, projectId);
      await db.terminate();
    },
  };
}
