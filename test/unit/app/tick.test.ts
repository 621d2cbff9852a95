/** The tick's pure parts: which due rollouts it takes, and bounded concurrency. */
import { describe, expect, it } from 'vitest';
import { eligibleForTick, runWithConcurrency } from '../../../functions/app/tick.ts';
import type { DueRollout } from '../../../functions/ports/rollout-store.ts';

describe('eligibleForTick', () => {
  const now = 1_000_000;
  const grace = 120_000;
  const due: DueRollout[] = [
    { id: 'sched-just-due', driver: 'scheduler', nextActionAt: now },
    { id: 'wf-just-due', driver: 'workflow', nextActionAt: now - 1 },
    { id: 'wf-almost-overdue', driver: 'workflow', nextActionAt: now - grace + 1 },
    { id: 'wf-overdue', driver: 'workflow', nextActionAt: now - grace },
    { id: 'wf-long-overdue', driver: 'workflow', nextActionAt: now - 10 * grace },
  ];

  it('takes scheduler-driven rollouts at once and workflow-driven ones only past the grace period', () => {
    expect(eligibleForTick(due, now, grace).map((d) => d.id)).toEqual([
      'sched-just-due',
      'wf-overdue',
      'wf-long-overdue',
    ]);
  });

  it('with no grace it takes every due rollout', () => {
    expect(eligibleForTick(due, now, 0)).toHaveLength(due.length);
  });
});

describe('runWithConcurrency', () => {
  it('never runs more than the limit at once, runs every item once, and starts them in order', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const items = Array.from({ length: 25 }, (_, i) => i);
    await runWithConcurrency(items, 4, async (i) => {
      started.push(i);
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
      running -= 1;
    });
    expect(peak).toBe(4);
    expect(started).toEqual(items);
  });

  it('copes with fewer items than the limit, and with none', async () => {
    const seen: string[] = [];
    await runWithConcurrency(['a', 'b'], 8, async (x) => {
      seen.push(x);
    });
    expect(seen).toEqual(['a', 'b']);
    await runWithConcurrency([], 8, async () => {
      throw new Error('never called');
    });
  });
});
