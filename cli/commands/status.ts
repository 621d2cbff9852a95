/** rolloutctl status ID: phase, weights, every route and the history, read from Firestore. */
import {
  describeStanding,
  describeTarget,
  type RolloutStatus,
  rolloutStatus,
} from '../../functions/app/status.ts';
import { describeCaller } from '../../functions/core/caller.ts';
import { describeProgress } from '../../functions/core/describe.ts';
import { targetsOf } from '../../functions/core/targets.ts';
import { describeWeights } from '../../functions/core/weights.ts';
import { withStore } from '../cloud.ts';
import { type CliIo, type Command, EXIT, printJson, UsageError } from '../command.ts';
import { rolloutIdArg } from '../rollout-id.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: 'one rollout: phase, step, weights per route, last verdict and history',
  help: `usage: rolloutctl status ROLLOUT_ID [--project P] [--json]

Reads the rollout and its history from Firestore. Exit 0, or 3 when there is no such rollout.
--json prints {rollout, history, targets, queue?} as stored (times in epoch milliseconds).`,
  options: {},
  async run(ctx) {
    const rolloutId = rolloutIdArg(ctx.args[0]);
    if (rolloutId === undefined) throw new UsageError('status needs a rollout id');
    const status = await withStore(ctx, (s) => rolloutStatus(s, { rolloutId }));
    if (ctx.json) printJson(ctx.io, status);
    else printStatus(ctx.io, status);
    return EXIT.ok;
  },
};

function stepText(status: RolloutStatus): string {
  const { rollout: r } = status;
  const s = r.status;
  if (s.phase === 'Progressing' || s.phase === 'Paused') return ` ${describeProgress(r.plan, s)}`;
  if (s.phase !== 'Aborting') return '';
  return ` stepping down (${s.held === null ? `gradual abort by ${s.actor}` : `held by ${s.held.actor}`})`;
}

export function printStatus(io: CliIo, status: RolloutStatus): void {
  const { rollout: r, history, targets, queue } = status;
  const lines = [
    `${r.id}  ${r.status.phase}${stepText(status)}  ${describeWeights(r.weights)}  version ${r.version}`,
  ];
  for (const t of targets) lines.push(`  route  ${describeTarget(t)}`);
  lines.push(`  stable ${r.spec.stable}`, `  canary ${r.spec.canary}`);
  for (const t of targetsOf(r.spec).filter((x) => x.stable !== r.spec.stable || x.canary !== r.spec.canary)) {
    lines.push(`  ${t.route}: stable ${t.stable}, canary ${t.canary}`);
  }
  if (queue) lines.push(`  queued: ${describeStanding(queue)}`);
  if (r.supersedes) lines.push(`  supersedes ${r.supersedes}`);
  if (r.supersededBy) lines.push(`  superseded by ${r.supersededBy}`);
  if (r.analysis.last) lines.push(`  last verdict: ${r.analysis.last.verdict} — ${r.analysis.last.summary}`);
  for (const h of history) {
    const at = new Date(h.at).toISOString();
    // Who asked, as the controller knows it: a verified member, or a topic and the name only claimed.
    const via = h.caller ? ` [${describeCaller(h.caller)}]` : '';
    lines.push(
      `  v${String(h.version).padEnd(3)} ${at}  ${h.event.padEnd(24)} ${h.actor}${via}: ${h.reason}`,
    );
  }
  io.out(`${lines.join('\n')}\n`);
}
