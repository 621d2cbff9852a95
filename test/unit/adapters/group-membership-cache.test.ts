/**
 * The cache in front of the group directory: fresh answers are reused per (email, group),
 * members longer than non-members, expired ones asked again, the size bounded, concurrent asks
 * shared, failures never cached nor taken as membership, and the whole answer bounded in time.
 */
import { describe, expect, it } from 'vitest';
import { CachingGroupMembership, TtlCache } from '../../../functions/adapters/group-membership-cache.ts';
import { TransientError } from '../../../functions/errors.ts';

/** A directory with a call log; `members` maps group email → member emails. */
function directory(members: Record<string, string[]>) {
  const calls: string[] = [];
  let failure: Error | null = null;
  const check = async (email: string, group: string): Promise<boolean> => {
    calls.push(`${email} ${group}`);
    if (failure !== null) throw failure;
    return (members[group] ?? []).includes(email);
  };
  return {
    calls,
    check,
    members,
    failWith: (error: Error | null) => {
      failure = error;
    },
  };
}

function fakeClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const OPS = 'group:ops@example.test';
const DEV = 'group:dev@example.test';

describe('CachingGroupMembership', () => {
  it('reuses a fresh answer per (email, group); members for positiveMs, non-members for negativeMs', async () => {
    const dir = directory({ 'ops@example.test': ['alice@example.test'] });
    const clock = fakeClock();
    const groups = new CachingGroupMembership(dir.check, {
      positiveMs: 300_000,
      negativeMs: 60_000,
      clock: clock.now,
    });
    expect(await groups.memberOf('alice@example.test', [OPS, DEV])).toEqual([OPS]);
    expect(await groups.memberOf('ALICE@example.test', [DEV, OPS])).toEqual([OPS]);
    expect(dir.calls).toHaveLength(2);

    // Membership changes in the directory are seen only when the cached answer expires.
    dir.members['ops@example.test'] = [];
    dir.members['dev@example.test'] = ['alice@example.test'];
    clock.advance(60_001);
    expect(await groups.memberOf('alice@example.test', [OPS, DEV])).toEqual([OPS, DEV]);
    expect(dir.calls).toHaveLength(3);
    clock.advance(240_000);
    expect(await groups.memberOf('alice@example.test', [OPS, DEV])).toEqual([DEV]);
    expect(dir.calls).toHaveLength(4);
  });

  it('keeps each email’s answers apart', async () => {
    const dir = directory({ 'ops@example.test': ['alice@example.test'] });
    const groups = new CachingGroupMembership(dir.check);
    expect(await groups.memberOf('alice@example.test', [OPS])).toEqual([OPS]);
    expect(await groups.memberOf('bob@example.test', [OPS])).toEqual([]);
    expect(dir.calls).toEqual(['alice@example.test ops@example.test', 'bob@example.test ops@example.test']);
  });

  it('holds at most maxEntries answers, dropping the oldest', async () => {
    const dir = directory({});
    const groups = new CachingGroupMembership(dir.check, { maxEntries: 2 });
    for (const who of ['a', 'b', 'c']) await groups.memberOf(`${who}@example.test`, [OPS]);
    await groups.memberOf('c@example.test', [OPS]);
    expect(dir.calls).toHaveLength(3);
    await groups.memberOf('a@example.test', [OPS]);
    expect(dir.calls).toHaveLength(4);
  });

  it('shares one call among concurrent asks for the same pair', async () => {
    const dir = directory({ 'ops@example.test': ['alice@example.test'] });
    const groups = new CachingGroupMembership(dir.check);
    const answers = await Promise.all([
      groups.memberOf('alice@example.test', [OPS]),
      groups.memberOf('alice@example.test', [OPS]),
    ]);
    expect(answers).toEqual([[OPS], [OPS]]);
    expect(dir.calls).toHaveLength(1);
  });

  it('never caches a failure nor takes it as membership: the answer rejects, retryable', async () => {
    const dir = directory({ 'ops@example.test': ['alice@example.test'] });
    const groups = new CachingGroupMembership(dir.check);
    dir.failWith(new Error('socket hang up'));
    await expect(groups.memberOf('alice@example.test', [OPS])).rejects.toMatchObject({
      name: 'TransientError',
      retryable: true,
      code: 'GROUPS_UNAVAILABLE',
    });
    dir.failWith(null);
    expect(await groups.memberOf('alice@example.test', [OPS])).toEqual([OPS]);
    expect(dir.calls).toHaveLength(2);
  });

  it('bounds the whole answer in time', async () => {
    const groups = new CachingGroupMembership(() => new Promise<boolean>(() => undefined), {
      deadlineMs: 30,
    });
    const failure = await groups.memberOf('alice@example.test', [OPS]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransientError);
    expect((failure as TransientError).code).toBe('GROUPS_TIMEOUT');
  });

  it('checks at most `concurrency` groups at once', async () => {
    let running = 0;
    let most = 0;
    const check = async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      return false;
    };
    const groups = new CachingGroupMembership(check, { concurrency: 3 });
    const many = Array.from({ length: 10 }, (_, i) => `group:g${i}@example.test`);
    expect(await groups.memberOf('alice@example.test', many)).toEqual([]);
    expect(most).toBe(3);
  });
});

describe('TtlCache', () => {
  it('forgets an entry at its expiry', () => {
    const clock = fakeClock();
    const cache = new TtlCache<string, number>(10, clock.now);
    cache.set('k', 1, 100);
    clock.advance(99);
    expect(cache.get('k')).toBe(1);
    clock.advance(1);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
