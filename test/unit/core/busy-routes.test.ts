/** The core's side of busy routes: a Queued rollout, the hand-over, and supersede. */
import { describe, expect, it } from 'vitest';
import type { Input } from '../../../functions/core/inputs.ts';
import { dequeueRollout, displaceSuperseder, queueRollout } from '../../../functions/core/queue.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { observed } from '../../support/drive.ts';
import { newRollout } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function queued(id: string, supersede = false): Rollout {
  const created = newRollout(id, { whenRouteBusy: supersede ? 'supersede' : 'queue' });
  return queueRollout(created, { seq: 4, holder: 'holder', supersede, displaced: null }).rollout;
}

function changed(r: Rollout, input: Input, now = T0 + 1000): Rollout {
  const d = transition(r, input, now);
  if (d.kind !== 'changed') throw new Error(`expected a change: ${d.reason}`);
  return d.rollout;
}

const supersede = (by: string, how: 'rollback' | 'abort'): Input => ({
  type: 'supersede',
  by,
  with: how,
  actor: `supersede:${by}`,
});

describe('a queued rollout', () => {
  it('is not due, has no driver action and answers every driver call unchanged', () => {
    const r = queued('q');
    expect(r.status).toEqual({ phase: 'Queued', seq: 4 });
    expect(r.nextActionAt).toBeNull();
    for (const input of [
      { type: 'start', actor: 'x' },
      { type: 'due', actor: 'scheduler' },
      { type: 'control', command: 'pause', note: '', actor: 'operator:a' },
    ] as const) {
      const d = transition(r, input, T0);
      expect(d.kind).toBe('unchanged');
      expect(d.followUp.kind).toBe('none');
    }
  });

  it('an operator abort ends it Aborted without touching the route', () => {
    const d = transition(r0(), { type: 'control', command: 'abort', note: 'no', actor: 'operator:a' }, T0);
    expect(d.kind === 'changed' && d.rollout.status).toEqual({
      phase: 'Aborted',
      actor: 'operator:a',
      note: 'no',
    });
    expect(d.followUp.kind).toBe('none');
    expect(d.kind === 'changed' && d.rollout.intent).toBeNull();
  });

  it('is made Pending and due at once when the route is handed to it', () => {
    const r = queued('q');
    const { rollout, entry } = dequeueRollout(
      r,
      { ...r, id: 'holder', status: { phase: 'Succeeded' } },
      T0 + 5,
    );
    expect(rollout.status.phase).toBe('Pending');
    expect(rollout.version).toBe(2);
    expect(rollout.nextActionAt).toBe(T0 + 5);
    expect(entry).toMatchObject({ event: 'rollout.dequeued', actor: 'route:holder', version: 2 });
    expect(transition(rollout, { type: 'start', actor: 'x' }, T0 + 6).kind).toBe('changed');
  });
});

function r0(): Rollout {
  return queued('q');
}

describe('supersede', () => {
  const running = changed(newRollout('old').rollout, { type: 'start', actor: 'x' }, T0);

  it('rollback: rolls the running rollout back with a cause naming the new one, then RolledBack', () => {
    const r = changed(running, supersede('new', 'rollback'));
    expect(r.status).toEqual({ phase: 'RollingBack', cause: { kind: 'superseded', by: 'new' } });
    expect(r.supersededBy).toBe('new');
    expect(r.intent?.purpose).toBe('rollback');
    const done = changed(r, observed(r), T0 + 2000);
    expect(done.status.phase).toBe('RolledBack');
  });

  it('abort: the operator abort path with actor supersede:<new>, then Aborted', () => {
    const r = changed(running, supersede('new', 'abort'));
    expect(r.status).toMatchObject({
      phase: 'RollingBack',
      cause: { kind: 'abort', actor: 'supersede:new' },
    });
    const done = changed(r, observed(r), T0 + 2000);
    expect(done.status).toMatchObject({ phase: 'Aborted', actor: 'supersede:new' });
  });

  it('the same supersede twice changes nothing; a newer one while rolling back only relinks', () => {
    const r = changed(running, supersede('new', 'rollback'));
    expect(transition(r, supersede('new', 'rollback'), T0 + 2000).kind).toBe('unchanged');
    const d = transition(r, supersede('newer', 'rollback'), T0 + 2000);
    expect(d.kind === 'changed' && d.rollout.supersededBy).toBe('newer');
    expect(d.kind === 'changed' && d.rollout.status).toEqual(r.status);
    expect(d.kind === 'changed' && d.entry.event).toBe('rollout.superseded');
  });

  it('a waiting superseder displaced by a newer one ends Aborted before it started, linked to it', () => {
    const displaced = displaceSuperseder(queued('s1', true), 's2', T0);
    expect(displaced?.rollout.status).toEqual({
      phase: 'Aborted',
      actor: 'supersede:s2',
      note: 'superseded by s2 before it started',
    });
    expect(displaced?.rollout.supersededBy).toBe('s2');
    expect(displaced?.rollout.supersedes).toBe('holder');
    expect(displaced?.entry.event).toBe('rollout.superseded');
  });

  it('a finished rollout is not superseded', () => {
    const done = { ...running, status: { phase: 'Succeeded' } } as Rollout;
    expect(transition(done, supersede('new', 'rollback'), T0).kind).toBe('unchanged');
  });
});
