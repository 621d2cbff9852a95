/** The advance message: what the tick publishes per rollout, and what advanceDue accepts. */
import { describe, expect, it } from 'vitest';
import {
  type AdvanceMessage,
  advanceDedupeKey,
  dueMessage,
  encodeAdvance,
  excerpt,
  parseAdvance,
} from '../../../functions/app/advance-message.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { InvalidInputError } from '../../../functions/errors.ts';
import { newRollout, routeName } from '../../support/fixtures.ts';

const rollout = newRollout('r-msg', { driver: 'scheduler' }).rollout;
const parse = (text: string) => parseAdvance(Buffer.from(text));

function problemsOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems.map((p) => `${p.field}: ${p.rule}`);
    throw error;
  }
  throw new Error('accepted');
}

describe('a due message', () => {
  it('carries the rollout as read, its id and version, and reads back equal', () => {
    const message = parse(dueMessage(rollout, 'scheduler'));
    expect(message).toEqual({
      kind: 'due',
      rolloutId: 'r-msg',
      version: rollout.version,
      actor: 'scheduler',
      rollout,
    });
  });

  it('keeps numbers JSON cannot write (NaN, ±Infinity) as they were', () => {
    const odd = {
      ...rollout,
      analysis: { ...rollout.analysis, judge: { a: Infinity, b: -Infinity, c: Number.NaN } },
    };
    const back = parse(dueMessage(odd as unknown as Rollout, 'scheduler'));
    expect(back.kind === 'due' ? back.rollout?.analysis.judge : null).toEqual({
      a: Infinity,
      b: -Infinity,
      c: Number.NaN,
    });
  });

  it('leaves a copy too large to carry out (advanceDue reads the rollout then)', () => {
    const data = dueMessage(rollout, 'scheduler', 100);
    expect(Buffer.byteLength(data)).toBeLessThan(200);
    expect(parse(data)).toEqual({
      kind: 'due',
      rolloutId: 'r-msg',
      version: 1,
      actor: 'scheduler',
      rollout: null,
    });
  });

  it('is recorded under one key per rollout and version', () => {
    expect(advanceDedupeKey('r-msg', 7)).toBe('advance:r-msg:7');
    expect(advanceDedupeKey('r-msg', 8)).not.toBe(advanceDedupeKey('r-msg', 7));
  });
});

describe('an operations message', () => {
  it('reads back the operations of its rollout', () => {
    const message: AdvanceMessage = {
      kind: 'operations',
      rolloutId: 'r-msg',
      actor: 'scheduler',
      operations: [
        {
          name: 'projects/p/locations/global/operations/op-1',
          rolloutId: 'r-msg',
          route: routeName(),
          intentId: 2,
          weights: { stable: 90, canary: 10 },
          startedAt: 5,
        },
      ],
    };
    expect(parse(encodeAdvance(message))).toEqual(message);
  });
});

describe('anything else is refused, naming what is wrong', () => {
  const due = JSON.parse(dueMessage(rollout, 'scheduler')) as Record<string, unknown>;

  it('not JSON, or not an advance message', () => {
    expect(problemsOf('not json')).toEqual(['message.data: must be valid JSON']);
    expect(problemsOf('{"kind": "sweep", "rolloutId": "r-msg"}')[0]).toMatch(/kind/);
    expect(problemsOf('[]').length).toBeGreaterThan(0);
    expect(problemsOf('null').length).toBeGreaterThan(0);
  });

  it('a copy of another rollout, or of another version', () => {
    expect(problemsOf(JSON.stringify({ ...due, rolloutId: 'r-other' }))).toEqual([
      'rollout: the rollout copy must have the id and version the message names',
    ]);
    expect(problemsOf(JSON.stringify({ ...due, version: 2 }))).toEqual([
      'rollout: the rollout copy must have the id and version the message names',
    ]);
  });

  it('a copy that is not a rollout, unknown fields, a bad id', () => {
    expect(
      problemsOf(JSON.stringify({ ...due, rollout: { id: 'r-msg', version: 1 } })).length,
    ).toBeGreaterThan(0);
    expect(problemsOf(JSON.stringify({ ...due, extra: true }))[0]).toMatch(/extra|unrecognized/i);
    expect(problemsOf(JSON.stringify({ ...due, rolloutId: '../etc', rollout: null }))).toEqual([
      'rolloutId: must be a rollout id',
    ]);
  });

  it('operations of another rollout', () => {
    const text = JSON.stringify({
      kind: 'operations',
      rolloutId: 'r-msg',
      actor: 'scheduler',
      operations: [
        {
          name: 'op',
          rolloutId: 'r-else',
          route: 'x',
          intentId: 1,
          weights: { stable: 1, canary: 99 },
          startedAt: 1,
        },
      ],
    });
    expect(problemsOf(text)).toEqual([
      'operations: every operation must belong to the rollout the message names',
    ]);
  });
});

describe('excerpt', () => {
  it('echoes at most the first bytes, printable only', () => {
    expect(excerpt(Buffer.from('short'))).toBe('short');
    expect(excerpt(Buffer.from([0x00, 0x41, 0xff, 0x0a]))).toBe('?A??');
    const long = excerpt(Buffer.from('x'.repeat(10_000)), 50);
    expect(long).toBe(`${'x'.repeat(50)}…`);
  });
});
