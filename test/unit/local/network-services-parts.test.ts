/** Pure parts of the local Network Services API: timestamps, update masks, read normalisation. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../local/network-services/api-error.ts';
import { asRead, validateRoute } from '../../../local/network-services/route-validation.ts';
import { MonotonicClock, rfc3339 } from '../../../local/network-services/timestamps.ts';
import { applyMask, parseUpdateMask } from '../../../local/network-services/update-mask.ts';

describe('timestamps', () => {
  it('formats nanoseconds as RFC 3339 with nine fractional digits', () => {
    expect(rfc3339(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
  });

  it('strictly increases even when read many times within one millisecond', () => {
    const clock = new MonotonicClock();
    const readings = Array.from({ length: 1000 }, () => clock.next());
    expect(new Set(readings).size).toBe(readings.length);
    expect([...readings].sort()).toEqual(readings);
  });
});

describe('update masks', () => {
  const current = { name: 'n', hostnames: ['a'], labels: { x: 'y' }, rules: [{}], createTime: 't' };

  it('replaces listed fields, clears listed fields the body leaves out, keeps the rest', () => {
    const next = applyMask(current, { rules: [{ matches: [] }], labels: null, hostnames: ['ignored'] }, [
      'rules',
      'labels',
    ]);
    expect(next).toEqual({ hostnames: ['a'], rules: [{ matches: [] }] });
  });

  it('replaces every writable field without a mask and drops output-only ones', () => {
    expect(applyMask(current, { hostnames: ['b'], rules: [], future: 1, updateTime: 'x' }, null)).toEqual({
      hostnames: ['b'],
      rules: [],
      future: 1,
    });
  });

  it('parses comma-separated paths, treats an empty mask as none, and names an unknown path', () => {
    expect(parseUpdateMask('rules, labels')).toEqual(['rules', 'labels']);
    expect(parseUpdateMask('')).toBeNull();
    expect(parseUpdateMask(null)).toBeNull();
    expect(() => parseUpdateMask('rules,updateTime')).toThrow("Invalid update mask path 'updateTime'");
  });
});

describe('routes as read', () => {
  it('omits weight 0 (proto3 cannot tell it from unset) and keeps everything else', () => {
    const stored = {
      hostnames: ['h'],
      rules: [
        {
          action: {
            destinations: [{ serviceName: 's', weight: 0, requestHeaderModifier: { set: { a: 'b' } } }],
            requestMirrorPolicy: { destination: { serviceName: 'm', weight: 0 }, mirrorPercent: 0 },
            extra: { kept: true },
          },
        },
      ],
    };
    expect(asRead(stored).rules?.[0]?.action).toEqual({
      destinations: [{ serviceName: 's', requestHeaderModifier: { set: { a: 'b' } } }],
      requestMirrorPolicy: { destination: { serviceName: 'm' }, mirrorPercent: 0 },
      extra: { kept: true },
    });
    expect(stored.rules[0]?.action.destinations[0]?.weight).toBe(0);
  });

  it('rejects a wrongly typed field the way the API parser does', () => {
    const route = {
      hostnames: ['h'],
      rules: [
        { action: { destinations: [{ serviceName: 'projects/p/global/backendServices/b', weight: 'ten' }] } },
      ],
    };
    let error: unknown;
    try {
      validateRoute(route);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).body()).toEqual({
      error: {
        code: 400,
        message: `Invalid value at 'http_route.rules[0].action.destinations[0].weight' (TYPE_INT32), "ten"`,
        status: 'INVALID_ARGUMENT',
      },
    });
  });
});
