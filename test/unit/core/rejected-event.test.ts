import { describe, expect, it } from 'vitest';
import {
  REJECTION_LIMITS,
  rejectedAttributes,
  rejectedEvent,
  requestFacts,
} from '../../../functions/core/rejected-event.ts';

const base = {
  requestMessageId: '1234',
  rolloutId: 'checkout-7',
  routes: ['projects/p/locations/global/httpRoutes/checkout'],
  at: Date.UTC(2026, 10, 23, 12),
  code: 'ROUTE_NOT_ALLOWED',
  message: 'route projects/p/locations/global/httpRoutes/checkout is not on the allowlist',
  hint: 'add it to ALLOWED_ROUTES',
};

describe('rollout.rejected events', () => {
  it('names the request, the rollout id, the reason and the code', () => {
    const event = rejectedEvent(base);
    expect(event).toEqual({
      schemaVersion: 1,
      type: 'rollout.rejected',
      eventId: 'rejected.1234',
      rolloutId: 'checkout-7',
      requestMessageId: '1234',
      at: '2026-11-23T12:00:00.000Z',
      actor: 'pubsub:1234',
      routes: base.routes,
      reason: base.message,
      error: { code: 'ROUTE_NOT_ALLOWED', hint: base.hint },
    });
    expect(rejectedAttributes(event)).toEqual({
      type: 'rollout.rejected',
      eventId: 'rejected.1234',
      requestMessageId: '1234',
      rolloutId: 'checkout-7',
    });
  });

  it('bounds the reason, the problems, each field and rule, and the routes', () => {
    const problems = Array.from({ length: 50 }, (_, i) => ({
      field: `f${i}${'x'.repeat(500)}`,
      rule: 'r'.repeat(900),
    }));
    const event = rejectedEvent({
      ...base,
      message: 'm'.repeat(5000),
      hint: 'h'.repeat(5000),
      code: 'C'.repeat(200),
      routes: Array.from({ length: 40 }, () => 'r'.repeat(1000)),
      problems,
    });
    expect(event.reason).toHaveLength(REJECTION_LIMITS.reason);
    expect(event.reason.endsWith('…')).toBe(true);
    expect(event.error.hint).toHaveLength(REJECTION_LIMITS.hint);
    expect(event.error.code).toHaveLength(REJECTION_LIMITS.code);
    expect(event.error.problems).toHaveLength(20);
    expect(event.error.moreProblems).toBe(30);
    for (const p of event.error.problems ?? []) {
      expect(p.field.length).toBeLessThanOrEqual(REJECTION_LIMITS.field);
      expect(p.rule.length).toBeLessThanOrEqual(REJECTION_LIMITS.rule);
    }
    expect(event.routes).toHaveLength(20);
    expect(event.routes.every((r) => r.length <= REJECTION_LIMITS.route)).toBe(true);
    expect(JSON.stringify(event).length).toBeLessThan(32_000);
  });

  it('leaves out a rollout id that is not one, and its attribute', () => {
    const event = rejectedEvent({ ...base, rolloutId: 'Not An Id!' });
    expect(event.rolloutId).toBeNull();
    expect(rejectedAttributes(event)).not.toHaveProperty('rolloutId');
    expect(rejectedEvent({ ...base, rolloutId: null }).rolloutId).toBeNull();
  });

  it('reads what a request says about itself without trusting it', () => {
    expect(requestFacts({ rolloutId: 'a-1', route: 'r1' })).toEqual({ rolloutId: 'a-1', routes: ['r1'] });
    expect(requestFacts({ targets: [{ route: 'r1' }, { route: 7 }, 'x', { route: 'r2' }] })).toEqual({
      rolloutId: undefined,
      routes: ['r1', 'r2'],
    });
    expect(requestFacts({ rolloutId: 42 })).toEqual({ rolloutId: null, routes: [] });
    expect(requestFacts({ rolloutId: 'UPPER' }).rolloutId).toBeNull();
    expect(requestFacts([1, 2])).toEqual({ rolloutId: null, routes: [] });
    expect(requestFacts(null)).toEqual({ rolloutId: null, routes: [] });
  });
});
