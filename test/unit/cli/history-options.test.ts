/** rolloutctl history's --since, --limit and --page-token, read before anything is queried. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command.ts';
import { decodePageToken, encodePageToken, parseLimit, parseSince } from '../../../cli/history-options.ts';
import { InvalidInputError } from '../../../functions/errors.ts';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('--since', () => {
  it.each([
    ['90s', NOW - 90_000],
    ['30m', NOW - 30 * 60_000],
    ['24h', NOW - 24 * 3_600_000],
    ['7d', NOW - 7 * 86_400_000],
    ['2w', NOW - 14 * 86_400_000],
    ['2026-11-30', Date.UTC(2026, 10, 30)],
    ['2026-11-30T08:00', Date.UTC(2026, 10, 30, 8)],
    ['2026-11-30T08:00:00Z', Date.UTC(2026, 10, 30, 8)],
    ['2026-11-30T08:00:00.250+01:00', Date.UTC(2026, 10, 30, 7, 0, 0, 250)],
  ])('reads %s', (text, at) => {
    expect(parseSince(text, NOW)).toBe(at);
  });

  it.each(['', '7', 'd7', '7days', '-1d', '2026-13-45', 'yesterday', '2026/11/30'])(
    'refuses %j as usage',
    (text) => {
      expect(() => parseSince(text, NOW)).toThrow(UsageError);
    },
  );
});

describe('--limit', () => {
  it('defaults to 20 and takes 1 to 500', () => {
    expect(parseLimit(undefined)).toBe(20);
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('500')).toBe(500);
  });
  it.each(['0', '501', '-3', '2.5', 'ten', ''])('refuses %j', (text) => {
    expect(() => parseLimit(text)).toThrow(UsageError);
  });
});

describe('--page-token', () => {
  it('carries the cursor there and back', () => {
    const cursor = [NOW, 'rollout-abc-retry2'] as const;
    expect(decodePageToken(encodePageToken(cursor))).toEqual(cursor);
  });

  it.each([
    'nonsense',
    'h1.',
    'h1.!!!',
    `h1.${Buffer.from('{"a":1}').toString('base64url')}`,
    `h1.${Buffer.from('[1]').toString('base64url')}`,
    `h1.${Buffer.from('["x","y"]').toString('base64url')}`,
    `h1.${Buffer.from('[1.5,"y"]').toString('base64url')}`,
    `h1.${Buffer.from('[1,""]').toString('base64url')}`,
    `h1.${Buffer.from('[1,"a/b"]').toString('base64url')}`,
    `h1.${Buffer.from('not json').toString('base64url')}`,
    `h1.${'A'.repeat(300)}`,
  ])('refuses %j, naming --page-token', (token) => {
    expect(() => decodePageToken(token)).toThrow(InvalidInputError);
    try {
      decodePageToken(token);
    } catch (error) {
      expect((error as InvalidInputError).problems[0]?.field).toBe('--page-token');
    }
  });
});
