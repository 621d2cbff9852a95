import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command.ts';
import { rolloutIdArg } from '../../../cli/rollout-id.ts';
import { rolloutStatus } from '../../../functions/app/status.ts';
import { InvalidInputError } from '../../../functions/errors.ts';
import type { RolloutStore } from '../../../functions/ports/rollout-store.ts';

/** A store that fails the test if anything reaches it. */
const untouchable = new Proxy({} as RolloutStore, {
  get: (_t, name) => () => {
    throw new Error(`the store was reached (${String(name)})`);
  },
});

describe('ids are checked before any store access', () => {
  it.each(['victim-1/../victim-1', '../x', 'a\n{"severity":"INFO"}', 'ｖｉｃｔｉｍ', 'x'.repeat(100_000)])(
    'status of %j is refused naming rolloutId, with a bounded echo',
    async (id) => {
      const error = await rolloutStatus({ store: untouchable }, { rolloutId: id }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      const problems = (error as InvalidInputError).problems;
      expect(problems[0]?.field).toBe('rolloutId');
      expect(problems[0]?.rule.length).toBeLessThan(250);
      expect(problems[0]?.rule).not.toMatch(/\n/);
    },
  );

  it('rolloutctl takes a well-formed id and refuses any other as a usage error', () => {
    expect(rolloutIdArg('checkout-7')).toBe('checkout-7');
    expect(rolloutIdArg(undefined)).toBeUndefined();
    expect(() => rolloutIdArg('victim-1/../victim-1')).toThrow(UsageError);
  });
});
