/** rolloutctl pause|resume|promote|abort|retry ID: publishes an operator command to rollout-control. */
import { userInfo } from 'node:os';
import { parseControl } from '../../functions/app/control.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { projectOf, publish } from '../cloud.ts';
import { type Command, EXIT, flag, printJson, stringOption, UsageError } from '../command.ts';
import { deadlineMs } from '../deadline.ts';

export const controlCommand: Command = {
  name: 'pause',
  aliases: ['resume', 'promote', 'abort', 'retry'],
  summary: 'pause, resume, promote, abort or retry a rollout (publishes to rollout-control)',
  help: `usage: rolloutctl pause|resume|promote|abort|retry ROLLOUT_ID [--reason TEXT] [--actor WHO] [--json]
       rolloutctl abort ROLLOUT_ID --route R --canary C     acts even while Firestore is down
       rolloutctl abort ROLLOUT_ID --gradual [--hold 1m]    steps the canary down through the
                                                            plan's lower weights before taking it out

Publishes the command; the controller records who asked and why in the rollout's history.
Exit 0 once published, 3 for a malformed command (nothing published).`,
  options: {
    reason: { type: 'string' },
    actor: { type: 'string' },
    route: { type: 'string' },
    canary: { type: 'string' },
    gradual: { type: 'boolean' },
    hold: { type: 'string' },
  },
  async run(ctx, name) {
    const [rolloutId] = ctx.args;
    if (rolloutId === undefined) throw new UsageError(`${name} needs a rollout id`);
    const route = stringOption(ctx, 'route');
    const canary = stringOption(ctx, 'canary');
    const hold = stringOption(ctx, 'hold');
    const body = parseControl({
      rolloutId,
      command: name,
      actor: stringOption(ctx, 'actor') ?? userInfo().username,
      reason: stringOption(ctx, 'reason') ?? '',
      ...(route === undefined ? {} : { route }),
      ...(canary === undefined ? {} : { canary }),
      ...(flag(ctx, 'gradual') ? { gradual: true } : {}),
      ...(hold === undefined ? {} : { hold }),
    });
    const messageId = await publish(projectOf(ctx), TOPICS.control, body, deadlineMs(ctx.io.env));
    if (ctx.json) printJson(ctx.io, { published: true, command: name, rolloutId: body.rolloutId, messageId });
    else ctx.io.out(`published ${name} for ${body.rolloutId} (message ${messageId})\n`);
    return EXIT.ok;
  },
};
