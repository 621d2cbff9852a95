import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MAX_REQUEST_BYTES,
  parseRolloutRequest,
  validateRolloutRequest,
} from '../../../functions/core/request.ts';
import { rolloutRequestJsonSchema } from '../../../functions/core/request-json-schema.ts';
import { requestInput } from '../../support/fixtures.ts';

function problems(value: unknown): Record<string, string> {
  const result = validateRolloutRequest(value);
  if (result.ok) throw new Error('expected the request to be rejected');
  return Object.fromEntries(result.issues.map((i) => [i.field, i.rule]));
}

describe('rollout request validation', () => {
  it('accepts a hand-written request and fills every default', () => {
    const result = parseRolloutRequest(JSON.stringify(requestInput()));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.onSuccess).toBe('promote');
    expect(result.value.driver).toBe('workflow');
    expect(result.value.analysis).toEqual({
      interval: '60s',
      settle: '30s',
      maxErrorRatio: 0.05,
      blindToGrpcErrors: false,
      failureLimit: 3,
      minRequests: 50,
      inconclusiveLimit: 10,
      sequential: { enabled: true, alpha: 0.01, errors: 'clustered', latency: true },
    });
  });

  it('rejects malformed JSON at the top level', () => {
    const result = parseRolloutRequest('{"route": ');
    expect(result).toMatchObject({ ok: false, issues: [{ field: '$' }] });
    if (!result.ok) expect(result.issues[0]?.rule).toMatch(/valid JSON/);
  });

  it('rejects an oversized payload before parsing it', () => {
    const huge = JSON.stringify({ ...requestInput(), requestedBy: 'x'.repeat(MAX_REQUEST_BYTES) });
    const result = parseRolloutRequest(huge);
    expect(result).toMatchObject({ ok: false, issues: [{ field: '$' }] });
    if (!result.ok) expect(result.issues[0]?.rule).toMatch(/at most 32768 bytes/);
  });

  it('rejects things that are not objects', () => {
    for (const value of [null, 42, 'text', [], true]) {
      expect(problems(value)).toEqual({ $: 'must be a JSON object describing the rollout' });
    }
  });

  it('names unknown fields at any depth', () => {
    const p = problems({
      ...requestInput({ steps: [{ weight: 10, hold: '1m', color: 'red' } as never] }),
      surprise: true,
      analysis: { interval: '60s', bogus: 1 },
    });
    expect(p).toEqual({
      surprise: 'is not a known field',
      'steps[0].color': 'is not a known field',
      'analysis.bogus': 'is not a known field',
    });
  });

  it('names wrong types', () => {
    const p = problems({ ...requestInput(), route: 7, steps: [{ weight: '10', hold: 5 }], driver: 'cron' });
    expect(p['route']).toBe('must be a string');
    expect(p['steps[0].weight']).toBe('must be a number');
    expect(p['steps[0].hold']).toMatch(/duration string/);
    expect(p['driver']).toBe('must be "workflow" or "scheduler"');
  });

  it('rejects weights outside 1-100 and fractional weights', () => {
    expect(problems(requestInput({ steps: [{ weight: 0, hold: '1m' }] }))).toEqual({
      'steps[0].weight': 'must be at least 1',
    });
    expect(problems(requestInput({ steps: [{ weight: 101, hold: '1m' }] }))).toEqual({
      'steps[0].weight': 'must be at most 100',
    });
    expect(problems(requestInput({ steps: [{ weight: 12.5, hold: '1m' }] }))).toEqual({
      'steps[0].weight': 'must be a whole number',
    });
  });

  it('rejects weight steps that do not increase, across gates', () => {
    const p = problems(
      requestInput({
        steps: [
          { weight: 10, hold: '1m' },
          { gate: 'manual' },
          { weight: 10, hold: '1m' },
          { weight: 5, hold: '1m' },
        ],
      }),
    );
    expect(p).toEqual({
      'steps[2].weight': 'must be greater than the previous weight step (10)',
      'steps[3].weight': 'must be greater than the previous weight step (10)',
    });
  });

  it('rejects absurd durations', () => {
    expect(problems(requestInput({ steps: [{ weight: 10, hold: '25h' }] }))).toEqual({
      'steps[0].hold': 'must be between 0s and 86400s',
    });
    expect(problems(requestInput({ steps: [{ weight: 10, hold: '-5m' }] }))['steps[0].hold']).toMatch(
      /whole number/,
    );
    expect(problems(requestInput({ analysis: { interval: '5s' } }))).toEqual({
      'analysis.interval': 'must be between 60s and 3600s',
    });
    const week = Array.from({ length: 8 }, (_, i) => ({ weight: i + 1, hold: '24h' }));
    expect(problems(requestInput({ steps: week }))).toEqual({
      steps: 'hold times must add up to at most 7 days',
    });
  });

  it('rejects too many steps, no weight step, and stable equal to canary', () => {
    const many = Array.from({ length: 31 }, (_, i) => ({ weight: i + 1, hold: '1m' }));
    expect(problems(requestInput({ steps: many }))).toEqual({ steps: 'must contain at most 30 steps' });
    expect(problems(requestInput({ steps: [{ gate: 'manual' }] }))).toEqual({
      steps: 'must contain at least one weight step',
    });
    const same = requestInput();
    expect(problems({ ...same, canary: same.stable })).toEqual({ canary: 'must differ from stable' });
  });

  it('rejects short resource names and bad analysis values', () => {
    const p = problems({
      ...requestInput(),
      route: 'checkout',
      analysis: {
        maxErrorRatio: 1.5,
        sequential: { alpha: 0.5, errors: 'bursty' },
        metrics: { canary: { preset: 'cloudRun' } },
      },
    });
    expect(p['route']).toMatch(
      /full route name: projects\/P\/locations\/L\/{httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes}/,
    );
    expect(p['analysis.maxErrorRatio']).toBe('must be at most 1');
    expect(p['analysis.sequential.alpha']).toBe('must be at most 0.2');
    expect(p['analysis.sequential.errors']).toBe('must be "clustered" or "independent"');
    expect(p['analysis.metrics.canary.service']).toMatch(/Cloud Run service name/);
  });

  it('requires a raw metric filter to name exactly one metric type', () => {
    const p = problems(
      requestInput({
        analysis: {
          metrics: {
            canary: {
              preset: 'filter',
              requests: 'resource.type="x"',
              errors: 'metric.type="a" AND metric.type="b"',
            },
          },
        },
      }),
    );
    expect(p['analysis.metrics.canary.requests']).toMatch(/exactly one metric.type/);
    expect(p['analysis.metrics.canary.errors']).toMatch(/exactly one metric.type/);
  });
});

describe('published JSON Schema', () => {
  it('is generated from the current schema (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../../schema/rollout-request.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(rolloutRequestJsonSchema())));
  });
});
