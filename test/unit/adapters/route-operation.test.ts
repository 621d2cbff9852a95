/** Polling a long-running operation with bounded exponential backoff (simulated clock). */
import { describe, expect, it } from 'vitest';
import {
  type Operation,
  type PollClock,
  waitForOperation,
} from '../../../functions/adapters/route-operation.ts';
import { RouteError } from '../../../functions/ports/traffic-router.ts';

function simulatedClock(): PollClock & { readonly sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const running: Operation = { name: 'projects/p/locations/global/operations/op-1', done: false };
const options = { initialMs: 100, maxMs: 1_000, timeoutMs: 10_000 };

async function failure(promise: Promise<unknown>): Promise<RouteError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof RouteError)) throw new Error(`expected a RouteError, got ${String(error)}`);
  return error;
}

describe('waitForOperation', () => {
  it('returns a finished operation without polling', async () => {
    const clock = simulatedClock();
    const done = { ...running, done: true, response: {} };
    expect(
      await waitForOperation(done, () => Promise.reject(new Error('no poll')), options, 'x', clock),
    ).toBe(done);
    expect(clock.sleeps).toEqual([]);
  });

  it('backs off exponentially up to maxMs until the operation is done', async () => {
    const clock = simulatedClock();
    let polls = 0;
    const fetch = async (name: string): Promise<Operation> => {
      polls += 1;
      return { name, done: polls === 6 };
    };
    const result = await waitForOperation(running, fetch, options, 'x', clock);
    expect(result.done).toBe(true);
    expect(clock.sleeps).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('tolerates transient poll failures, but not others', async () => {
    const clock = simulatedClock();
    let polls = 0;
    const unavailable = Object.assign(new Error('unavailable'), { status: 503, response: { status: 503 } });
    const flaky = async (name: string): Promise<Operation> => {
      polls += 1;
      if (polls === 1) throw unavailable;
      return { name, done: true };
    };
    expect((await waitForOperation(running, flaky, options, 'x', clock)).done).toBe(true);

    const denied = Object.assign(new Error('denied'), { status: 403, response: { status: 403 } });
    const error = await failure(
      waitForOperation(running, () => Promise.reject(denied), options, 'x', simulatedClock()),
    );
    expect(error.kind).toBe('permissionDenied');
  });

  it('gives up at the deadline with a transient error, never sleeping past it', async () => {
    const clock = simulatedClock();
    const fetch = async (name: string): Promise<Operation> => ({ name, done: false });
    const error = await failure(
      waitForOperation(running, fetch, { ...options, timeoutMs: 1_000 }, 'patching r', clock),
    );
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('did not finish within 1000 ms');
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(1_000);
  });

  it('maps an operation error by its gRPC code', async () => {
    const fetch = async (name: string): Promise<Operation> => ({
      name,
      done: true,
      error: { code: 7, message: 'no' },
    });
    const error = await failure(waitForOperation(running, fetch, options, 'patching r', simulatedClock()));
    expect(error.kind).toBe('permissionDenied');
    expect(error.message).toContain('failed with code 7: no');
  });
});
