/** rolloutctl watch's rendering: pure functions of the rollout, its history and the width. */
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../cli/command.ts';
import {
  backendLine,
  eValueText,
  outcomeLine,
  outcomeOf,
  plainLine,
  progressBar,
  renderBlock,
} from '../../../cli/watch/render.ts';
import { InPlace } from '../../../cli/watch/sinks.ts';
import type { HistoryEntry, Rollout } from '../../../functions/core/state.ts';
import { newRollout } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const EVIDENCE = {
  canaryRequests: 1840,
  canaryErrorRatio: 0.0031,
  canaryP99Ms: 120.4,
  stableRequests: 5000,
  stableErrorRatio: 0.002,
  stableP99Ms: 99.6,
  eValue: 0.41,
  eValueThreshold: 100,
};

function progressing(): { rollout: Rollout; history: HistoryEntry[] } {
  const { rollout, entry } = newRollout('checkout-7');
  const window = { index: 2, start: T0, end: T0 + 60_000 };
  const analysis: HistoryEntry = {
    ...entry,
    version: 7,
    at: T0 + 120_000,
    event: 'rollout.analysis',
    reason: 'window 2: pass (5xx 0.31% over 1840 canary requests within limits)',
    from: { phase: 'Progressing', step: 0, weights: { stable: 90, canary: 10 } },
    to: { phase: 'Progressing', step: 0, weights: { stable: 90, canary: 10 } },
    verdict: { verdict: 'pass', summary: 'ok', window, evidence: EVIDENCE },
    hooks: [
      {
        point: 'preStep',
        hook: 'load-ready',
        status: 'passed',
        code: 200,
        excerpt: 'ok',
        attempts: 1,
        durationMs: 12,
      },
    ],
  };
  return {
    rollout: {
      ...rollout,
      version: 7,
      status: { phase: 'Progressing', step: 0 },
      weights: { stable: 90, canary: 10 },
      analysis: {
        ...rollout.analysis,
        last: { verdict: 'pass', summary: 'ok', window, at: T0 + 120_000, evidence: EVIDENCE },
      },
    },
    history: [entry, analysis],
  };
}

describe('watch rendering', () => {
  it('shows phase, step, a progress bar, weights, the verdict per backend, e-value, hooks and the latest reason', () => {
    const { rollout, history } = progressing();
    const lines = renderBlock(rollout, history, 200);
    expect(lines).toEqual([
      'checkout-7  Progressing  step 1/2  v7',
      `  ${progressBar(1 / 3)}`,
      '  stable 90% / canary 10%  projects/demo-project/locations/global/httpRoutes/checkout',
      '  verdict pass (window 2)  e-value 0.410 vs threshold 100',
      '  canary  1840 req  errors 0.31%  p99 120ms',
      '  stable  5000 req  errors 0.20%  p99 100ms',
      '  hook preStep load-ready: passed (HTTP 200)',
      '  rollout.analysis: window 2: pass (5xx 0.31% over 1840 canary requests within limits)',
    ]);
  });

  it('fits every line in the width, so a redraw never wraps', () => {
    const { rollout, history } = progressing();
    for (const line of renderBlock(rollout, history, 50)) expect(line.length).toBeLessThan(50);
  });

  it('draws a bounded progress bar and says when the e-value crossed its threshold', () => {
    expect(progressBar(0.5, 10)).toBe('[#####.....]  50%');
    expect(progressBar(2, 4)).toBe('[####] 100%');
    expect(progressBar(-1, 4)).toBe('[....]   0%');
    expect(eValueText({ eValue: 250, eValueThreshold: 100 })).toBe('e-value 250 vs threshold 100 (crossed)');
    expect(eValueText({ canaryRequests: 3 })).toBe('');
    expect(backendLine({ canaryRequests: 12 }, 'canary')).toBe('canary  12 req  errors –');
    expect(backendLine({}, 'stable')).toBeNull();
  });

  it('prints one plain line per change, without escape codes', () => {
    const { rollout, history } = progressing();
    const line = plainLine(rollout, history[1] as HistoryEntry);
    expect(line).toBe(
      '2026-11-23T12:02:00.000Z  checkout-7 v7  Progressing  step 1/2  stable 90% / canary 10%  pass e-value 0.410 vs threshold 100  rollout.analysis: window 2: pass (5xx 0.31% over 1840 canary requests within limits)',
    );
    expect(line).not.toContain('\u001b');
  });

  it('ends with the outcome: Succeeded, RolledBack, Aborted, Failed, or Superseded', () => {
    const { rollout, history } = progressing();
    expect(outcomeOf(rollout)).toBeNull();
    expect(outcomeOf({ ...rollout, status: { phase: 'Succeeded' } })).toBe('Succeeded');
    expect(outcomeOf({ ...rollout, status: { phase: 'Failed', error: 'x' } })).toBe('Failed');
    expect(outcomeOf({ ...rollout, status: { phase: 'Aborted', actor: 'a', note: 'n' } })).toBe('Aborted');
    const rolledBack: Rollout = {
      ...rollout,
      status: { phase: 'RolledBack', cause: { kind: 'verdict', summary: 'canary 5xx above stable' } },
    };
    expect(outcomeOf(rolledBack)).toBe('RolledBack');
    const superseded = { ...rolledBack, supersededBy: 'checkout-8' };
    expect(outcomeOf(superseded)).toBe('Superseded');
    expect(outcomeLine(superseded, 'Superseded', history)).toMatch(
      /^checkout-7 Superseded by checkout-8 at stable 90% \/ canary 10%/,
    );
  });
});

describe('redrawing in place', () => {
  it('moves the cursor up over what it drew and erases each line; never clears the screen', () => {
    let out = '';
    const io: CliIo = {
      out: (t) => {
        out += t;
      },
      err: () => {},
      isTTY: true,
      columns: 80,
      env: {},
      readFile: () => '',
    };
    const screen = new InPlace(io);
    screen.draw(['a', 'b', 'c']);
    expect(out).toBe('\r\u001b[2Ka\n\r\u001b[2Kb\n\r\u001b[2Kc\n');
    out = '';
    screen.draw(['A', 'B']);
    expect(out).toBe('\u001b[3A\r\u001b[2KA\n\r\u001b[2KB\n\u001b[0J');
    expect(out).not.toContain('\u001b[2J');
  });
});
