/** rolloutctl start -f request.json: publishes the request to rollout-requests. */
import { TOPICS } from '../../functions/manifest.ts';
import { projectOf, publish } from '../cloud.ts';
import { type Command, EXIT, flag, printJson } from '../command.ts';
import { deadlineMs } from '../deadline.ts';
import { WATCH_OPTIONS } from '../watch/options.ts';
import { startAndWatch } from '../watch/start-watch.ts';
import { requestFromFile } from './validate.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'validate a rollout request and publish it to rollout-requests',
  help: `usage: rolloutctl start -f request.json [--watch [--timeout D]] [--project P] [--json]

Validates the request (as \`validate\` does) and publishes it to the rollout-requests topic.
Prints the Pub/Sub message id. Exit 0 once published, 3 for an invalid request (nothing published).

  --watch        then follow the rollout to its end, as \`rolloutctl watch\` does: exit 0 only
                 when it Succeeded, 1 when it did not, 3 when the controller rejected the request
                 (its reason and code are printed), 6 after --timeout D. Needs a temporary
                 subscription to rollout-events (docs/cli.md#start---watch for the IAM).`,
  options: { file: { type: 'string', short: 'f' }, watch: { type: 'boolean' }, ...WATCH_OPTIONS },
  async run(ctx) {
    const request = requestFromFile(ctx);
    if (flag(ctx, 'watch')) return startAndWatch(ctx, request);
    const project = projectOf(ctx);
    const messageId = await publish(project, TOPICS.requests, request, deadlineMs(ctx.io.env));
    const rolloutId = request.rolloutId ?? null;
    if (ctx.json) printJson(ctx.io, { published: true, messageId, rolloutId });
    else
      ctx.io.out(`published rollout request (message ${messageId})${rolloutId ? ` for ${rolloutId}` : ''}\n`);
    return EXIT.ok;
  },
};
