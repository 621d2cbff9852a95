/** One `rolloutctl history` text line per rollout. */
import { describe, expect, it } from 'vitest';
import { historyLine } from '../../../cli/commands/history.ts';
import type { RolloutSummary } from '../../../functions/app/history.ts';

const P = 'projects/my-project/locations/global';
const T = Date.UTC(2026, 10, 29, 16, 0, 0);
const ended: RolloutSummary = {
  id: 'web-7',
  phase: 'RolledBack',
  finished: true,
  routes: [`${P}/httpRoutes/web`, `${P}/grpcRoutes/web-grpc`],
  stable: `${P}/backendServices/web-v6`,
  canary: `${P}/backendServices/web-v7`,
  createdAt: T,
  updatedAt: T + 21 * 60_000,
  endedAt: T + 21 * 60_000,
  durationMs: 21 * 60_000,
  attempt: 1,
  retryOf: null,
  lastEvent: 'rollout.rolled_back',
  lastReason: `${P}/httpRoutes/web, ${P}/grpcRoutes/web-grpc confirmed with no rule sending the canary traffic; rolled back`,
};

describe('historyLine', () => {
  it('shows id, phase, short routes, canary, created, ended, duration and the reason with short names', () => {
    expect(historyLine(ended)).toBe(
      'web-7  RolledBack  web,web-grpc  canary web-v7  created 2026-11-29T16:00:00Z  ended 2026-11-29T16:21:00Z  21min  web, web-grpc confirmed with no rule sending the canary traffic; rolled back',
    );
  });

  it('shows when an active rollout was last updated, and cuts a long reason to 80 characters on one line', () => {
    const line = historyLine({
      ...ended,
      phase: 'Progressing',
      finished: false,
      endedAt: null,
      durationMs: 90_000,
      lastReason: `step 2\nof 3: ${'x'.repeat(200)}`,
    });
    expect(line).toContain('  updated 2026-11-29T16:21:00Z  90s  step 2 of 3: xxx');
    expect(line.split('  ').at(-1)).toHaveLength(80);
    expect(line.endsWith('…')).toBe(true);
  });
});
