/**
 * Hostile inputs against every entry point, through the production handlers (HTTP ones through
 * functions-framework's own server) on the Firestore and Pub/Sub emulators: every (entry point,
 * category) pair of the corpus plus a seeded sample. Nothing answers 5xx (a Pub/Sub function
 * that throws would be redelivered: that counts as a 5xx), no log entry is over the cap, no
 * Firestore document changes and nothing is published but rollout.rejected events. Timing is
 * reported by `npm run bench:hostile`, never asserted here.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MAX_LOG_ENTRY_BYTES } from '../../functions/app/log.ts';
import { testFirestore } from '../support/firestore.ts';
import { type Harness, type Outcome, startHarness } from '../support/hostile-harness.ts';
import { CATEGORIES, HTTP_ENTRIES, hostileSample, PUBSUB_ENTRIES } from '../support/hostile-inputs.ts';

const PROJECT = 'contract-hostile-inputs';
const SEED = 17;
const EXTRA = 300;

const fs = testFirestore(PROJECT);
let harness: Harness;
let before: Map<string, string>;
const outcomes: Outcome[] = [];

beforeAll(async () => {
  await fs.clear();
  harness = await startHarness({
    project: PROJECT,
    firestoreHost: fs.host,
    pubsubHost: inject('pubsubHost'),
  });
  before = await harness.snapshot();
  for (const input of hostileSample(SEED, EXTRA)) outcomes.push(await harness.run(input));
}, 600_000);

afterAll(async () => {
  await harness.close();
  await fs.close();
});

describe('hostile inputs change nothing and answer within the rules', () => {
  it('covers every entry point and every category', () => {
    const entries = new Set(outcomes.map((o) => o.entry));
    expect([...entries].sort()).toEqual([...PUBSUB_ENTRIES, ...HTTP_ENTRIES].sort());
    for (const entry of entries) {
      const categories = new Set(outcomes.filter((o) => o.entry === entry).map((o) => o.category));
      expect([...categories].sort(), entry).toEqual([...CATEGORIES].sort());
    }
    expect(outcomes.length).toBe(
      PUBSUB_ENTRIES.length * CATEGORIES.length + HTTP_ENTRIES.length * CATEGORIES.length + EXTRA,
    );
  });

  it('no 5xx, and every HTTP refusal is a 4xx', () => {
    const failures = outcomes.filter((o) => o.status >= 500);
    expect(failures, JSON.stringify(failures.slice(0, 5))).toEqual([]);
    const http = outcomes.filter((o) => o.entry === 'controlHttp' || o.entry === 'advanceRollout');
    const accepted = http.filter((o) => o.status < 400);
    expect(accepted, JSON.stringify(accepted.slice(0, 5))).toEqual([]);
  });

  it(`no log entry over ${MAX_LOG_ENTRY_BYTES} bytes`, () => {
    const over = outcomes.filter((o) => o.logBytes > MAX_LOG_ENTRY_BYTES);
    expect(over, JSON.stringify(over.slice(0, 5))).toEqual([]);
    expect(Buffer.byteLength(harness.largestLine())).toBeLessThanOrEqual(MAX_LOG_ENTRY_BYTES);
  });

  it('every Firestore document is as it was, and only rollout.rejected events were published', async () => {
    const after = await harness.snapshot();
    expect(before.size).toBeGreaterThan(0);
    expect([...after.entries()]).toEqual([...before.entries()]);
    const published = await harness.published();
    expect(published.other).toEqual([]);
    expect(published.rejected).toBeGreaterThan(0);
  });
});
