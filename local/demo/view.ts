/**
 * Terminal rendering of the demo: one block per rollout (phase, step, weights, traffic and error
 * ratio per backend, last verdict with its e-value, progress bar) and a final summary table.
 */
import { describeProgress } from '../../functions/core/describe.ts';
import type { Rollout } from '../../functions/core/state.ts';
import type { SmokeRun } from '../hooks/smoke-test.ts';
import type { Scenario } from './scenarios.ts';

export interface BackendTraffic {
  readonly requests: number;
  readonly errors: number;
}

export interface RolloutView {
  readonly scenario: Scenario;
  readonly rollout: Rollout | null;
  readonly stable: BackendTraffic;
  readonly canary: BackendTraffic;
  readonly note: string | null;
  /** The smoke-test service's runs for this rollout (its `check` hook); null: no hook. */
  readonly smokeRuns: readonly SmokeRun[] | null;
  /** gRPC calls per backend (errors: any grpc-status but OK), when the release moves a GRPCRoute. */
  readonly grpc: { readonly stable: BackendTraffic; readonly canary: BackendTraffic } | null;
}

const COLOR = process.stdout.isTTY && process.env['NO_COLOR'] === undefined;
const paint = (code: string, text: string) => (COLOR ? `\u001b[${code}m${text}\u001b[0m` : text);
export const green = (t: string) => paint('32', t);
export const red = (t: string) => paint('31', t);
export const yellow = (t: string) => paint('33', t);
export const bold = (t: string) => paint('1', t);
export const dim = (t: string) => paint('2', t);

export function ratio(t: BackendTraffic): string {
  return t.requests === 0 ? '   –  ' : `${((100 * t.errors) / t.requests).toFixed(2).padStart(5)}%`;
}

function phaseColour(phase: string): string {
  if (phase === 'Succeeded') return green(phase);
  if (phase === 'RolledBack' || phase === 'Aborted' || phase === 'Failed') return red(phase);
  if (phase === 'RollingBack' || phase === 'Paused' || phase === 'ActionRequired' || phase === 'Queued')
    return yellow(phase);
  return phase;
}

function progressBar(r: Rollout | null, width = 24): string {
  if (r === null) return `[${' '.repeat(width)}]`;
  const total = r.plan.steps.length;
  const s = r.status;
  const done =
    s.phase === 'Succeeded'
      ? total
      : s.phase === 'Progressing' || s.phase === 'Paused'
        ? s.step + (r.intent === null ? 0.5 : 0)
        : s.phase === 'Promoting'
          ? total - 0.5
          : 0;
  const filled = Math.round((done / total) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `[${s.phase === 'RolledBack' || s.phase === 'RollingBack' ? red(bar) : bar}]`;
}

export function renderRollout(v: RolloutView): string[] {
  const r = v.rollout;
  const head = `${bold(v.scenario.app.padEnd(9))} ${v.scenario.title.padEnd(27)}`;
  if (r === null) return [`${head} ${dim('waiting for the request to be accepted…')}`];
  const s = r.status;
  const step = s.phase === 'Progressing' || s.phase === 'Paused' ? describeProgress(r.plan, s) : '';
  const intent = r.intent ? dim(` → ${r.intent.weights.canary}% (${r.intent.purpose})`) : '';
  const last = r.analysis.last;
  const e = last?.evidence['eValue'];
  const verdict = last
    ? `${last.verdict === 'pass' ? green('pass') : last.verdict === 'fail' ? red('fail') : yellow('inconclusive')}${
        typeof e === 'number' ? ` e=${e.toPrecision(3)}/${last.evidence['eValueThreshold'] ?? 100}` : ''
      }`
    : dim('no verdict yet');
  return [
    `${head} ${progressBar(r)} ${phaseColour(s.phase).padEnd(COLOR ? 20 : 11)} ${step}`,
    `          weights stable ${String(r.weights.stable).padStart(3)}% / canary ${String(r.weights.canary).padStart(3)}%${intent}` +
      `   stable ${String(v.stable.requests).padStart(5)} req ${ratio(v.stable)} 5xx   canary ${String(v.canary.requests).padStart(5)} req ${ratio(v.canary)} 5xx`,
    ...(v.grpc === null ? [] : [grpcLine(r, v.grpc)]),
    `          ${verdict}${v.note ? `   ${yellow(v.note)}` : ''}`,
    ...(v.smokeRuns === null ? [] : [`          ${hookLine(r, v.smokeRuns)}`]),
  ];
}

/** The release's routes (HTTPRoute, then GRPCRoute, as written) and the gRPC calls each backend answered. */
function grpcLine(r: Rollout, grpc: NonNullable<RolloutView['grpc']>): string {
  const routes = (r.spec.targets ?? []).map((t) => t.route.split('/').slice(-2).join('/')).join(' + ');
  const done = r.intent?.done?.length ?? 0;
  const moving =
    r.intent === null ? '' : dim(` (${done} of ${r.spec.targets?.length ?? 1} routes confirmed)`);
  return (
    `          ${routes}${moving}`.padEnd(COLOR ? 66 : 62) +
    `   gRPC stable ${String(grpc.stable.requests).padStart(5)} calls ${ratio(grpc.stable)} err   canary ${String(grpc.canary.requests).padStart(5)} calls ${ratio(grpc.canary)} err`
  );
}

/** The check hook as the controller recorded it, and the smoke test's own last run. */
function hookLine(r: Rollout, runs: readonly SmokeRun[]): string {
  const checks = r.hookState?.checks ?? null;
  const recorded =
    checks === null
      ? dim('check hook not called yet')
      : checks.passed.length > 0
        ? `check hook ${green('passed')} at ${describeProgress(r.plan, { phase: 'Progressing', step: checks.step })}`
        : `check hook ${yellow('waiting')} (${checks.attempts} round${checks.attempts === 1 ? '' : 's'} not passed)`;
  const last = runs.at(-1);
  const run = last
    ? `smoke test run ${runs.length}: ${last.result === 'pass' ? green('pass') : red('fail')} (${last.requests} req, ${last.errors} failed)`
    : dim('no smoke test run yet');
  return `${recorded}   ${run}`;
}

export interface SummaryRow {
  readonly scenario: Scenario;
  readonly phase: string;
  readonly cause: string;
  readonly seconds: number;
  readonly canary: BackendTraffic;
  readonly ok: boolean;
}

export function renderSummary(rows: readonly SummaryRow[]): string {
  const header = [
    'rollout',
    'scenario',
    'expected',
    'outcome',
    'caused by',
    'took',
    'canary req',
    'canary 5xx',
    '',
  ];
  const body = rows.map((r) => [
    r.scenario.app,
    r.scenario.title,
    r.scenario.expected,
    r.phase,
    r.cause,
    `${r.seconds.toFixed(1)}s`,
    String(r.canary.requests),
    String(r.canary.errors),
    r.ok ? 'ok' : 'UNEXPECTED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
