/**
 * The options of `rolloutctl history` read from the command line: --since (a date/time or a span
 * back from now), --limit, and --page-token, an opaque string that carries the previous page's
 * cursor (createdAt, rollout id) and is checked before it reaches the store.
 */
import { InvalidInputError } from '../functions/errors.ts';
import type { PageCursor } from '../functions/ports/rollout-store.ts';
import { UsageError } from './command.ts';

const SPAN = /^(\d{1,6})(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** An ISO 8601 date, or date and time (with a zone, or UTC when it has none). */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 500;

/** `--since`: "2026-11-30", "2026-11-30T08:00:00Z", or "7d", "24h", "30m", "90s", "2w" back from `now`. */
export function parseSince(text: string, now: number): number {
  const span = SPAN.exec(text);
  if (span !== null) {
    const [, amount, unit] = span as unknown as [string, string, keyof typeof UNIT_MS];
    return now - Number(amount) * UNIT_MS[unit];
  }
  const zoned = ISO.exec(text);
  const at =
    zoned === null ? Number.NaN : Date.parse(zoned[1] !== undefined && !zoned[4] ? `${text}Z` : text);
  if (!Number.isFinite(at)) {
    throw new UsageError(
      `--since ${JSON.stringify(text.slice(0, 80))} is neither a date/time (2026-11-30, 2026-11-30T08:00:00Z) nor a span back from now (90s, 30m, 24h, 7d, 2w)`,
    );
  }
  return at;
}

export function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_LIMIT) {
    throw new UsageError(
      `--limit must be a whole number from 1 to ${MAX_LIMIT}, not ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return n;
}

const TOKEN_PREFIX = 'h1.';

export function encodePageToken(cursor: PageCursor): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function badToken(): InvalidInputError {
  return new InvalidInputError(
    'invalid --page-token: it is not one rolloutctl history printed',
    [{ field: '--page-token', rule: 'must be the token a previous page printed, unchanged' }],
    {
      code: 'INVALID_PAGE_TOKEN',
      hint: 'run rolloutctl history again without --page-token and copy the token it prints',
    },
  );
}

/** The cursor a token carries: [createdAt (epoch ms), rollout id]; InvalidInputError for anything else. */
export function decodePageToken(token: string): PageCursor {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) throw badToken();
  const body = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw badToken();
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw badToken();
  }
  if (!Array.isArray(cursor) || cursor.length !== 2) throw badToken();
  const [createdAt, id] = cursor as unknown[];
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) throw badToken();
  if (typeof id !== 'string' || !/^[^/]{1,200}$/.test(id)) throw badToken();
  return [createdAt, id];
}
