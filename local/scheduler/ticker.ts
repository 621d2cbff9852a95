/** Stands in for the Cloud Scheduler job: publishes a tick message to the tick topic on an interval. */
import type { PubSub } from '@google-cloud/pubsub';
import { TOPICS } from '../../functions/manifest.ts';

export interface Ticker {
  stop(): void;
}

export function startTicker(pubsub: PubSub, everyMs: number): Ticker {
  const topic = pubsub.topic(TOPICS.tick);
  const timer = setInterval(() => {
    topic.publishMessage({ json: { source: 'local-scheduler', at: new Date().toISOString() } }).catch(() => {
      // The emulator is shutting down; the next tick tries again.
    });
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
