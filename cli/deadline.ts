/**
 * How long rolloutctl waits for one call to Google Cloud (or the local cloud) before it gives up
 * with exit 5: the client libraries themselves retry an unreachable endpoint for 50–60 s.
 * `ROLLOUTCTL_DEADLINE` (e.g. "10s", "2m") sets it; default 30 s.
 */
import { parseDurationSeconds } from '../functions/core/duration.ts';
import { TransientError } from '../functions/errors.ts';
import { UsageError } from './command.ts';

export const DEFAULT_DEADLINE_MS = 30_000;

export function deadlineMs(env: Readonly<Record<string, string | undefined>>): number {
  const text = env['ROLLOUTCTL_DEADLINE'];
  if (text === undefined || text === '') return DEFAULT_DEADLINE_MS;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined || seconds < 1) {
    throw new UsageError(
      `ROLLOUTCTL_DEADLINE must be a duration such as 10s or 2m, not ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return seconds * 1000;
}

/** `work`'s outcome, or TransientError DEADLINE_EXCEEDED (exit 5) once `ms` have passed; `late` is called then. */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  late?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late?.();
      reject(
        new TransientError(`${what} did not answer within ${ms / 1000} s`, {
          code: 'DEADLINE_EXCEEDED',
          hint: 'check the project, your credentials or the local cloud (FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST), and retry; ROLLOUTCTL_DEADLINE sets how long to wait',
        }),
      );
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
