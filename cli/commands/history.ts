/** rolloutctl history: every rollout, finished ones too, newest first, a page at a time. */
import { type RolloutSummary, rolloutHistory } from '../../functions/app/history.ts';
import { describeSpan } from '../../functions/core/deadline-times.ts';
import { lastSegment } from '../../functions/core/resource-name.ts';
import { withStore } from '../cloud.ts';
import { type CliIo, type Command, EXIT, printJson, stringOption } from '../command.ts';
import {
  DEFAULT_LIMIT,
  decodePageToken,
  encodePageToken,
  MAX_LIMIT,
  parseLimit,
  parseSince,
} from '../history-options.ts';

/** Longest reason printed on a text line (the whole one is in --json and `status`). */
const REASON_CHARS = 80;

export const historyCommand: Command = {
  name: 'history',
  summary: 'every rollout, finished ones too, newest first, paged',
  help: `usage: rolloutctl history [--route R] [--since D] [--limit N] [--page-token T] [--project P] [--json]

Lists rollouts newest first (by creation time): id, final or current phase, routes, canary,
created, ended (or last updated), duration, and the reason of the last change.
  --route R        a full route name (any kind); a release of several routes matches any of them
  --since D        created at or after D: 2026-11-30, 2026-11-30T08:00:00Z (UTC unless a zone
                   is given), or a span back from now: 90s, 30m, 24h, 7d, 2w
  --limit N        rollouts per page, 1–${MAX_LIMIT} (default ${DEFAULT_LIMIT})
  --page-token T   the next page: the token the previous page printed
--json prints {rollouts: [summary…], nextPageToken: string|null} (times in epoch milliseconds).
Exit 0; 2 for a bad --since or --limit; 3 for a page token history did not print.`,
  options: {
    route: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    'page-token': { type: 'string' },
  },
  async run(ctx) {
    const now = Date.now();
    const route = stringOption(ctx, 'route');
    const since = stringOption(ctx, 'since');
    const token = stringOption(ctx, 'page-token');
    const page = {
      query: {
        ...(route === undefined ? {} : { route }),
        ...(since === undefined ? {} : { since: parseSince(since, now) }),
      },
      limit: parseLimit(stringOption(ctx, 'limit')),
      after: token === undefined ? null : decodePageToken(token),
    };
    const { rollouts, next } = await withStore(ctx, ({ store }) => rolloutHistory(store, page, now));
    const nextPageToken = next === null ? null : encodePageToken(next);
    if (ctx.json) printJson(ctx.io, { rollouts, nextPageToken });
    else printHistory(ctx.io, rollouts, nextPageToken);
    return EXIT.ok;
  },
};

/** Full resource names in a reason, e.g. `projects/p/locations/global/httpRoutes/web`. */
const RESOURCE_NAME = /\bprojects\/[^\s,;()]*\/([^/\s,;()]+)/g;

/** One line: resource names cut to their last segment, at most REASON_CHARS characters. */
function shortened(text: string): string {
  const line = text.replace(/\s+/g, ' ').replace(RESOURCE_NAME, '$1');
  return line.length <= REASON_CHARS ? line : `${line.slice(0, REASON_CHARS - 1)}…`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function historyLine(s: RolloutSummary): string {
  const when = s.endedAt === null ? `updated ${iso(s.updatedAt)}` : `ended ${iso(s.endedAt)}`;
  return [
    s.id,
    s.phase,
    s.routes.map(lastSegment).join(','),
    `canary ${lastSegment(s.canary)}`,
    `created ${iso(s.createdAt)}`,
    when,
    describeSpan(s.durationMs).replace(' ', ''),
    s.lastReason === null ? '' : shortened(s.lastReason),
  ]
    .join('  ')
    .trimEnd();
}

function printHistory(io: CliIo, rollouts: readonly RolloutSummary[], nextPageToken: string | null): void {
  if (rollouts.length === 0) io.out('no rollouts\n');
  for (const s of rollouts) io.out(`${historyLine(s)}\n`);
  if (nextPageToken !== null) io.out(`next page: --page-token ${nextPageToken}\n`);
}
