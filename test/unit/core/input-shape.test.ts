import { describe, expect, it } from 'vitest';
import { readJson, shapeIssue } from '../../../functions/core/input-shape.ts';
import {
  describeIssues,
  ECHO_LIMITS,
  escapeControls,
  rolloutIdIssue,
} from '../../../functions/core/validation.ts';

const limits = { maxBytes: 1024, maxDepth: 4, maxKeys: 5, maxItems: 3 };
const bytes = (text: string) => new TextEncoder().encode(text);

describe('readJson refuses before any schema, cheapest check first', () => {
  it('reads a document that fits', () => {
    expect(readJson(bytes('{"a": [1, {"b": 2}]}'), limits)).toEqual({
      ok: true,
      value: { a: [1, { b: 2 }] },
    });
  });

  it('too large, not UTF-8, too deep, not JSON, too wide, too long', () => {
    const rule = (input: Uint8Array) => {
      const read = readJson(input, limits);
      return read.ok ? null : read.issues[0]?.rule;
    };
    expect(rule(bytes(`"${'x'.repeat(2000)}"`))).toMatch(/at most 1024 bytes/);
    expect(rule(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe('must be valid UTF-8 text');
    expect(rule(bytes('[[[[[1]]]]]'))).toMatch(/at most 4 levels/);
    expect(rule(bytes('{"a": '))).toBe('must be valid JSON');
    expect(rule(bytes('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}'))).toMatch(/at most 5 fields \(got 6\)/);
    expect(rule(bytes('[1,2,3,4]'))).toMatch(/at most 3 items/);
  });

  it('brackets inside strings do not count as nesting', () => {
    expect(readJson(bytes('{"a": "[[[[[[[[\\"{{{{"}'), limits).ok).toBe(true);
  });
});

describe('shapeIssue walks parsed values without recursion', () => {
  it('names where the limit is crossed', () => {
    expect(shapeIssue({ a: { b: { c: { d: {} } } } }, limits)).toEqual({
      field: '$.a.b.c.d',
      rule: 'must be nested at most 4 levels deep',
    });
  });

  it('handles nesting far beyond the call stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(shapeIssue(deep, { ...limits, maxDepth: 1_000_000 })).toBeNull();
  });
});

describe('echoed input is bounded and escaped', () => {
  it('escapes control characters and bidi overrides', () => {
    expect(escapeControls('a\nb\u0000c\u007fd\u202ee\u2066')).toBe(
      'a\\u000ab\\u0000c\\u007fd\\u202ee\\u2066',
    );
  });

  it('describes at most ECHO_LIMITS.issues issues, each bounded', () => {
    const issues = Array.from({ length: 100_000 }, (_, i) => ({
      field: `k${i}${'x'.repeat(1000)}`,
      rule: 'is not a known field',
    }));
    const text = describeIssues(issues);
    expect(text.length).toBeLessThan(ECHO_LIMITS.issues * (ECHO_LIMITS.field + 30) + 40);
    expect(text).toMatch(/and 99980 more$/);
  });

  it('names a bad rollout id with a bounded echo', () => {
    expect(rolloutIdIssue('victim-1/../victim-1')?.rule).toMatch(/got "victim-1\/..\/victim-1"/);
    expect(rolloutIdIssue('ok-1')).toBeNull();
    expect(rolloutIdIssue(`a${'x'.repeat(10_000)}`)?.rule.length).toBeLessThan(200);
  });
});
