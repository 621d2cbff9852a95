/**
 * Starts Google's Firestore and Pub/Sub emulators once for the integration tests and
 * always stops them (by process group) when the run ends, fails or is interrupted.
 */
import type { TestProject } from 'vitest/node';
import { type Emulator, startEmulator } from '../../local/emulators.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    firestoreHost: string;
    pubsubHost: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: Emulator[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((e) => e.stop()));
  };
  const results = await Promise.allSettled([startEmulator('firestore'), startEmulator('pubsub')]);
  for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) {
    await stopAll();
    throw failure.reason;
  }
  const host = (kind: Emulator['kind']): string => started.find((e) => e.kind === kind)?.host ?? '';
  project.provide('firestoreHost', host('firestore'));
  project.provide('pubsubHost', host('pubsub'));
  return stopAll;
}
