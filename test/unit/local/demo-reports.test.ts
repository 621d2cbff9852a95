/**
 * The demo's end: one report per rollout through `rolloutctl report`'s own builder, written to
 * the reports folder, its path printed; a rollout that cannot be reported is named with why.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reportData } from '../../../cli/report/data.ts';
import { reportHtml } from '../../../cli/report/html.ts';
import { describeReports, writeDemoReports } from '../../../local/demo/reports.ts';
import { newRollout } from '../../support/fixtures.ts';
import { MemoryStore } from '../../support/memory-ports.ts';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('demo reports', () => {
  it('writes <id>.html per rollout with the CLI builder and prints each path', async () => {
    dir = mkdtempSync(join(tmpdir(), 'demo-reports-'));
    const store = new MemoryStore();
    const { rollout, entry } = newRollout('checkout-x1');
    await store.create(rollout, entry);
    const outcomes = await writeDemoReports(store, ['checkout-x1', 'never-accepted'], join(dir, 'reports'));
    const path = join(dir, 'reports', 'checkout-x1.html');
    expect(outcomes).toEqual([
      { rolloutId: 'checkout-x1', path },
      { rolloutId: 'never-accepted', error: 'no rollout never-accepted' },
    ]);
    expect(readFileSync(path, 'utf8')).toBe(
      reportHtml(reportData({ rollout, history: await store.history('checkout-x1') })),
    );
    expect(describeReports(outcomes).split('\n')).toEqual([
      `report  checkout-x1: ${path}`,
      'report  never-accepted: not written (no rollout never-accepted)',
    ]);
  });
});
