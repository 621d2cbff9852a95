/** rolloutctl start -f request.json: publishes the request to rollout-requests. */
import { TOPICS } from '../../functions/manifest.ts';
import { projectOf, publish } from '../cloud.ts';
import { type Command, EXIT, printJson } from '../command.ts';
import { deadlineMs } from '../deadline.ts';
import { requestFromFile } from './validate.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'validate a rollout request and publish it to rollout-requests',
  help: `usage: rolloutctl start -f request.json [--project P] [--json]

Validates the request (as \`validate\` does) and publishes it to the rollout-requests topic.
Prints the Pub/Sub message id. Exit 0 once published, 3 for an invalid request (nothing published).`,
  options: { file: { type: 'string', short: 'f' } },
  async run(ctx) {
    const request = requestFromFile(ctx);
    const project = projectOf(ctx);
    const messageId = await publish(project, TOPICS.requests, request, deadlineMs(ctx.io.env));
    const rolloutId = request.rolloutId ?? null;
    if (ctx.json) printJson(ctx.io, { published: true, messageId, rolloutId });
    else
      ctx.io.out(`published rollout request (message ${messageId})${rolloutId ? ` for ${rolloutId}` : ''}\n`);
    return EXIT.ok;
  },
};
