/**
 * `rolloutctl report` as a user runs it, on a rollout the statistical judge really rolled back
 * through the whole local stack, opened in a real headless Chromium (playwright-core driving the
 * installed browser): no console error, no request but the file itself, one point per judged
 * window and one marker per event, the e-value above its threshold line only at the rollback,
 * no horizontal overflow on screen or on A4, and a screenshot kept in test-artifacts/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../cli/report/data.ts';
import type { HistoryEntry } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { findChromium } from '../support/chromium.ts';
import { runRolloutctl } from '../support/cli.ts';
import { type Stack, startStack } from '../support/stack.ts';

const ID = 'report-verdict';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let stack: Stack;
let history: HistoryEntry[];
let dir: string;

beforeAll(async () => {
  // Fail first, and say what to install, when there is no browser to test in.
  findChromium();
  dir = mkdtempSync(join(tmpdir(), 'rollout-report-'));
  stack = await startStack({
    project: 'cli-report',
    apps: ['payments'],
    // No alert policy: only the analysis can roll the canary back.
    cloud: { alerts: { payments: null } },
  });
  const app = stack.app('payments');
  const canary = stack.cloud.backends.get(app.canaryService);
  stack.load(app);
  await stack.controller.publish(
    TOPICS.requests,
    stack.request(app, {
      rolloutId: ID,
      steps: [
        { weight: 20, hold: '15m' },
        { weight: 50, hold: '5m' },
      ],
      // No 5xx ratio fails the absolute check: only the comparison's e-value can fail the canary.
      analysis: { minRequests: 10, maxErrorRatio: 1 },
    }),
  );
  // The canary turns bad once a healthy window has been judged, so the e-value has a history.
  await stack.waitFor(ID, (r) => r.analysis.windowsJudged > 0);
  canary?.setBehaviour({ errorRatio: 0.25 });
  const done = await stack.waitForTerminal(ID);
  canary?.setBehaviour({ errorRatio: 0 });
  expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'verdict' } });
  history = await stack.store.history(ID);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function rolloutctl(args: readonly string[]) {
  return runRolloutctl([...args, '--project', stack.cloud.project], {
    env: { FIRESTORE_EMULATOR_HOST: stack.cloud.firestoreHost },
    cwd: dir,
    timeoutMs: 60_000,
  });
}

/** What the page shows, read in the browser: counts, and the evidence chart's coordinates. */
interface PageFacts {
  readonly windowPoints: Record<string, number>;
  readonly eventMarkers: Record<string, number>;
  readonly timelineRows: number;
  /** Centre y of each e-value point, by history version, and the threshold line's y (page pixels). */
  readonly eValueY: Record<string, number>;
  readonly thresholdY: number | null;
  readonly overflow: number;
}

function readPage(page: Page): Promise<PageFacts> {
  return page.evaluate(() => {
    const charts = ['weights', 'errors', 'latency', 'evidence'];
    const within = (chart: string, selector: string) =>
      document.querySelectorAll(`svg[data-chart="${chart}"] ${selector}`);
    const centreY = (e: Element) => {
      const box = e.getBoundingClientRect();
      return box.top + box.height / 2;
    };
    const threshold = document.querySelector('svg[data-chart="evidence"] [data-threshold]');
    return {
      windowPoints: Object.fromEntries(
        ['errors:canary', 'errors:stable', 'evidence:evalue'].map((k) => {
          const [chart = '', series = ''] = k.split(':');
          return [k, within(chart, `[data-window][data-series="${series}"]`).length];
        }),
      ),
      eventMarkers: Object.fromEntries(charts.map((c) => [c, within(c, '[data-event]').length])),
      timelineRows: document.querySelectorAll('tr[data-timeline]').length,
      eValueY: Object.fromEntries(
        [...within('evidence', '[data-window]')].map((e) => [
          e.getAttribute('data-window') ?? '',
          centreY(e),
        ]),
      ),
      thresholdY: threshold === null ? null : centreY(threshold),
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
  });
}

describe('rolloutctl report in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: findChromium(),
      headless: true,
      args: ['--no-sandbox'],
    });
  });
  afterAll(() => browser?.close());

  it('writes a self-contained report a browser shows without errors or requests, the rollback above the threshold', async () => {
    const run = await rolloutctl(['report', ID, '-o', 'report.html']);
    expect(run, run.stderr).toMatchObject({ code: 0, stderr: '' });
    const file = join(dir, 'report.html');
    expect(run.stdout).toBe(`${file}\n`);

    const judged = history.filter((h) => h.verdict !== null);
    const failing = judged.at(-1);
    expect(failing).toMatchObject({ event: 'rollout.rolling_back', verdict: { verdict: 'fail' } });
    expect(judged.length).toBeGreaterThan(1);

    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });

    const facts = await readPage(page);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    expect(facts.windowPoints).toEqual({
      'errors:canary': judged.length,
      'errors:stable': judged.length,
      'evidence:evalue': judged.length,
    });
    const markers = Object.fromEntries(
      ['weights', 'errors', 'latency', 'evidence'].map((c) => [c, history.length]),
    );
    expect(facts.eventMarkers).toEqual(markers);
    expect(facts.timelineRows).toBe(history.length);

    // Page y grows downwards: above the threshold line is a smaller y.
    const threshold = facts.thresholdY ?? Number.NaN;
    expect(facts.eValueY[String(failing?.version)]).toBeLessThan(threshold);
    for (const h of judged.slice(0, -1))
      expect(facts.eValueY[String(h.version)], `v${h.version}`).toBeGreaterThan(threshold);
    expect(facts.overflow).toBeLessThanOrEqual(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    // On A4 (210 mm less 12 mm margins either side, at 96 px per inch) nothing overflows sideways.
    await page.emulateMedia({ media: 'print' });
    await page.setViewportSize({ width: 703, height: 1000 });
    expect((await readPage(page)).overflow).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('--json prints the data model, -o defaults to report-ID.html; an unwritable file exits 2, an unknown rollout 3 writing nothing', async () => {
    const unwritablePath = join(dir, 'no-such-folder', 'r.html');
    // Independent runs, side by side: each is a process of its own.
    const [run, plain, unwritable, missing] = await Promise.all([
      rolloutctl(['report', ID, '--json']),
      rolloutctl(['report', ID]),
      rolloutctl(['report', ID, '-o', unwritablePath]),
      rolloutctl(['report', 'no-such-rollout']),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const data = JSON.parse(run.stdout) as ReportData;
    expect(data).toMatchObject({ id: ID, outcome: { phase: 'RolledBack' } });
    expect(data.events.map((e) => e.version)).toEqual(history.map((h) => h.version));
    expect(data.windows.map((w) => w.version)).toEqual(
      history.filter((h) => h.verdict !== null).map((h) => h.version),
    );
    expect(data.windows.at(-1)?.eValue).toBeGreaterThanOrEqual(
      data.windows.at(-1)?.eValueThreshold ?? Infinity,
    );

    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`${join(dir, `report-${ID}.html`)}\n`);
    expect(readFileSync(join(dir, `report-${ID}.html`), 'utf8')).toContain(`data-chart="evidence"`);

    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain(`-o: cannot write ${unwritablePath}`);

    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no rollout no-such-rollout');
    expect(() => readFileSync(join(dir, 'report-no-such-rollout.html'))).toThrow();
  });
});
