/**
 * The controller's topics and subscriptions on the Pub/Sub emulator, shaped like the Eventarc
 * triggers Terraform creates: one push subscription per function topic, delivering to the
 * function at /projects/P/topics/T, with a retry policy and a dead-letter topic so a poison
 * message is tried a bounded number of times instead of every second forever.
 */
import { PubSub } from '@google-cloud/pubsub';
import { TOPICS } from '../functions/manifest.ts';

export const DEAD_LETTER_TOPIC = 'rollout-dead-letter';

export interface TopologyOptions {
  readonly pubsubHost: string;
  readonly project: string;
  /** Function base URL per topic it is triggered by. */
  readonly pushTargets: Readonly<Record<string, string>>;
  readonly minimumBackoffSeconds?: number;
  readonly maximumBackoffSeconds?: number;
  readonly maxDeliveryAttempts?: number;
}

export function pubsubClient(host: string, project: string): PubSub {
  return new PubSub({ projectId: project, apiEndpoint: host });
}

async function ensureTopic(pubsub: PubSub, name: string): Promise<void> {
  const [exists] = await pubsub.topic(name).exists();
  if (!exists) await pubsub.createTopic(name);
}

/** Creates every topic, the push subscriptions, and pull subscriptions on the events and dead-letter topics. */
export async function createTopology(
  options: TopologyOptions,
): Promise<{ eventsSubscription: string; deadLetterSubscription: string }> {
  const pubsub = pubsubClient(options.pubsubHost, options.project);
  try {
    for (const topic of [...Object.values(TOPICS), DEAD_LETTER_TOPIC]) await ensureTopic(pubsub, topic);
    for (const [topic, baseUrl] of Object.entries(options.pushTargets)) {
      const name = `push-${topic}`;
      const [exists] = await pubsub.subscription(name).exists();
      if (exists) await pubsub.subscription(name).delete();
      await pubsub.createSubscription(topic, name, {
        pushConfig: { pushEndpoint: `${baseUrl}/projects/${options.project}/topics/${topic}` },
        ackDeadlineSeconds: 60,
        retryPolicy: {
          minimumBackoff: { seconds: options.minimumBackoffSeconds ?? 1 },
          maximumBackoff: { seconds: options.maximumBackoffSeconds ?? 10 },
        },
        deadLetterPolicy: {
          deadLetterTopic: `projects/${options.project}/topics/${DEAD_LETTER_TOPIC}`,
          maxDeliveryAttempts: options.maxDeliveryAttempts ?? 5,
        },
      });
    }
    const eventsSubscription = 'watch-rollout-events';
    const deadLetterSubscription = 'watch-dead-letters';
    for (const [topic, name] of [
      [TOPICS.events, eventsSubscription],
      [DEAD_LETTER_TOPIC, deadLetterSubscription],
    ] as const) {
      const [exists] = await pubsub.subscription(name).exists();
      if (!exists) await pubsub.createSubscription(topic, name);
    }
    return { eventsSubscription, deadLetterSubscription };
  } finally {
    await pubsub.close();
  }
}
