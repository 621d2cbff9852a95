/** rolloutctl watch ID|--all: a live view of rollouts, ending with the outcome (docs/cli.md#watch). */
import { withStore } from '../cloud.ts';
import { type Command, EXIT, flag, UsageError } from '../command.ts';
import { rolloutIdArg } from '../rollout-id.ts';
import { followAll, followOne } from '../watch/follow.ts';
import { onInterrupt } from '../watch/interrupt.ts';
import { exitOf, followOptions, WATCH_OPTIONS } from '../watch/options.ts';
import { sinkFor } from '../watch/sinks.ts';

export const watchCommand: Command = {
  name: 'watch',
  summary: 'follow a rollout (or --all) live until it ends; exit 0 only when it Succeeded',
  help: `usage: rolloutctl watch ROLLOUT_ID|--all [--timeout D] [--interval D] [--project P] [--json]

Shows the rollout as it changes: phase, step n/N and a progress bar, the weights on every route,
the last verdict (requests, error ratio and p99 per backend, e-value against its threshold), the
latest hook results and the latest history reason. On a terminal it redraws in place; piped, it
prints one plain line per change; --json prints one JSON object per change (the lifecycle event
shape, docs/events.md) and a last {"type":"watch.outcome"} object.

  --all           every active rollout, and those that start, until interrupted (Ctrl-C: exit 0)
  --timeout D     give up after D (e.g. 90s, 30m, 2h): exit 6
  --interval D    how often Firestore is read (default 1s)

Exit codes: 0 Succeeded; 1 RolledBack, Aborted, Failed or Superseded; 3 no such rollout;
6 timed out or interrupted before the rollout ended.
Example: rolloutctl watch checkout-7f3c2a1 --timeout 1h`,
  options: { ...WATCH_OPTIONS, all: { type: 'boolean' } },
  async run(ctx) {
    const rolloutId = rolloutIdArg(ctx.args[0]);
    const all = flag(ctx, 'all');
    if ((rolloutId === undefined) === !all) throw new UsageError('watch needs a rollout id, or --all');
    const interruption = onInterrupt();
    try {
      const options = followOptions(ctx, interruption.signal);
      const sink = sinkFor(ctx.io, ctx.json);
      return await withStore(ctx, async ({ store }) => {
        if (rolloutId === undefined) {
          const end = await followAll(store, sink, options);
          return end.kind === 'timedOut' ? EXIT.timedOut : EXIT.ok;
        }
        return exitOf(await followOne(store, rolloutId, sink, options));
      });
    } finally {
      interruption.dispose();
    }
  },
};
