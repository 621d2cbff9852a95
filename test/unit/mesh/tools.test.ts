/** Pure helpers of the demo backend and the load generator. */
import { describe, expect, it } from 'vitest';
import { codeClass, percentile } from '../../../local/mesh/codes.ts';
import { DEFAULT_BEHAVIOUR, mergeBehaviour } from '../../../local/mesh/demo-backend.ts';
import { parseDurationMs } from '../../../local/mesh/load.ts';

describe('demo backend behaviour', () => {
  it('merges a partial change and keeps the rest', () => {
    expect(mergeBehaviour(DEFAULT_BEHAVIOUR, { errorRatio: 0.25, latencyMs: 20 })).toEqual({
      ...DEFAULT_BEHAVIOUR,
      errorRatio: 0.25,
      latencyMs: 20,
    });
  });

  it('rejects bad values with a message naming the field', () => {
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { errorRatio: 1.5 })).toThrow(/errorRatio/);
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { errorStatus: 404 })).toThrow(/errorStatus/);
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { errorRate: 0.1 })).toThrow(/unknown field "errorRate"/);
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, { tailMs: '5' })).toThrow(/tailMs must be a number/);
    expect(() => mergeBehaviour(DEFAULT_BEHAVIOUR, [])).toThrow(/JSON object/);
  });
});

describe('load helpers', () => {
  it('reads durations with units, seconds by default', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1.5')).toBe(1500);
    expect(() => parseDurationMs('soon')).toThrow(/not a duration/);
  });

  it('classes status codes and takes nearest-rank percentiles', () => {
    expect([101, 200, 302, 404, 503, 0].map(codeClass)).toEqual(['1xx', '2xx', '3xx', '4xx', '5xx', '5xx']);
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([50, 99, 100]);
    expect(percentile([], 50)).toBeNaN();
  });
});
