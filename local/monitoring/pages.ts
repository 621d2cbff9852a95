/**
 * ListTimeSeries pagination. The first page computes the whole result and keeps it; later
 * pages read that snapshot, so points written between pages never shift or repeat series.
 * A page holds whole series: in the FULL view up to `pageSize` points (at least one series),
 * in the HEADERS view up to `pageSize` series — the real API's meaning of pageSize. Snapshots
 * live ten minutes, so a retried page gets the same answer.
 */
import { randomUUID } from 'node:crypto';
import { invalidArgument } from './api-error.ts';
import type { TimeSeries } from './model.ts';

interface Snapshot {
  readonly fingerprint: string;
  readonly series: readonly TimeSeries[];
  readonly expires: number;
}

export interface Page {
  readonly series: readonly TimeSeries[];
  readonly nextPageToken: string;
}

const SNAPSHOT_TTL_MS = 10 * 60_000;
const MAX_SNAPSHOTS = 500;

export class Paginator {
  readonly #snapshots = new Map<string, Snapshot>();

  page(
    request: { fingerprint: string; pageToken: string; pageSize: number; view: 'FULL' | 'HEADERS' },
    compute: () => readonly TimeSeries[],
  ): Page {
    const now = Date.now();
    for (const [id, s] of this.#snapshots) if (s.expires < now) this.#snapshots.delete(id);
    let id: string;
    let offset: number;
    let snapshot: Snapshot;
    if (request.pageToken === '') {
      id = randomUUID();
      offset = 0;
      snapshot = { fingerprint: request.fingerprint, series: compute(), expires: now + SNAPSHOT_TTL_MS };
    } else {
      const parsed = /^([0-9a-f-]{36})\.(\d+)$/.exec(request.pageToken);
      const found = parsed ? this.#snapshots.get(parsed[1] ?? '') : undefined;
      if (!parsed || !found) {
        throw invalidArgument(
          'Field pageToken had an invalid value: unknown or expired page token; list again without it.',
        );
      }
      if (found.fingerprint !== request.fingerprint) {
        throw invalidArgument(
          'Field pageToken had an invalid value: the token belongs to a request with a different filter, interval, aggregation or view.',
        );
      }
      id = parsed[1] ?? '';
      offset = Number(parsed[2]);
      snapshot = found;
    }
    const series: TimeSeries[] = [];
    let used = 0;
    let i = offset;
    while (i < snapshot.series.length) {
      const s = snapshot.series[i] as TimeSeries;
      const cost = request.view === 'FULL' ? s.points.length : 1;
      if (series.length > 0 && used + cost > request.pageSize) break;
      series.push(s);
      used += cost;
      i += 1;
    }
    if (i < snapshot.series.length) {
      this.#snapshots.set(id, snapshot);
      while (this.#snapshots.size > MAX_SNAPSHOTS) {
        const oldest = this.#snapshots.keys().next().value;
        if (oldest === undefined) break;
        this.#snapshots.delete(oldest);
      }
      return { series, nextPageToken: `${id}.${i}` };
    }
    return { series, nextPageToken: '' };
  }
}
