/** tick (topic rollout-tick, Cloud Scheduler every minute). Any message body is accepted. */
import { tick } from '../app/tick.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function tickHandler(rt: Runtime) {
  return pubsubHandler(rt, 'tick', async (_message, log) => {
    const report = await tick({ ...rt, log }, { actor: 'scheduler' });
    if (report.due > 0)
      log.info(`tick handed out ${report.published} of ${report.due} due rollouts`, { ...report });
  });
}
