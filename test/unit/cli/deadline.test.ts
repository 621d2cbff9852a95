/** How long rolloutctl waits for one cloud call (ROLLOUTCTL_DEADLINE), and what it says when it gives up. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command.ts';
import { DEFAULT_DEADLINE_MS, deadlineMs, withDeadline } from '../../../cli/deadline.ts';
import { isRetryable, TransientError } from '../../../functions/errors.ts';

describe('ROLLOUTCTL_DEADLINE', () => {
  it('defaults to 30 s and reads a duration', () => {
    expect(deadlineMs({})).toBe(DEFAULT_DEADLINE_MS);
    expect(deadlineMs({ ROLLOUTCTL_DEADLINE: '' })).toBe(30_000);
    expect(deadlineMs({ ROLLOUTCTL_DEADLINE: '5s' })).toBe(5_000);
    expect(deadlineMs({ ROLLOUTCTL_DEADLINE: '2m' })).toBe(120_000);
  });

  it.each(['soon', '0s', '5', '1.5s', '-1s'])('refuses %j as usage', (text) => {
    expect(() => deadlineMs({ ROLLOUTCTL_DEADLINE: text })).toThrow(UsageError);
  });
});

describe('withDeadline', () => {
  it('passes the outcome through when the call answers in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, 'Firestore')).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('no')), 1000, 'Firestore')).rejects.toThrow('no');
  });

  it('gives up with a retryable DEADLINE_EXCEEDED naming the service, and says so once', async () => {
    let late = 0;
    const never = new Promise<never>(() => undefined);
    const error = await withDeadline(never, 20, 'Firestore', () => {
      late += 1;
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(isRetryable(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      message: 'Firestore did not answer within 0.02 s',
    });
    expect(late).toBe(1);
  });
});
