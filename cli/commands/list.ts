/** rolloutctl list: the active rollouts, one line each with every route. */
import { activeRollouts } from '../../functions/app/status.ts';
import { withStore } from '../cloud.ts';
import { type Command, EXIT, printJson } from '../command.ts';

export const listCommand: Command = {
  name: 'list',
  summary: 'active rollouts with every route of each',
  help: `usage: rolloutctl list [--project P] [--json]

Lists the rollouts that hold a route (not finished ones: see \`rolloutctl history\`). Exit 0.`,
  options: {},
  async run(ctx) {
    const { active } = await withStore(ctx, (s) => activeRollouts(s));
    if (ctx.json) {
      printJson(ctx.io, { active });
      return EXIT.ok;
    }
    if (active.length === 0) ctx.io.out('no active rollouts\n');
    for (const a of active) {
      ctx.io.out(`${a.rolloutId}  ${(a.routes ?? [a.route]).join(', ')}  canary ${a.canaryName}\n`);
    }
    return EXIT.ok;
  },
};
