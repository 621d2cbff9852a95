/**
 * A Pub/Sub message as a CloudEvent function receives it: the `messagePublished` event that
 * Eventarc delivers and functions-framework makes of a push request. For tests and benchmarks
 * that pull messages and hand them to a handler in-process, as a push delivery would.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';

export interface DeliveredMessage {
  readonly id: string;
  readonly data: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishTime: Date;
}

export function cloudEventOf(message: DeliveredMessage, project: string, topic: string): CloudEvent<unknown> {
  return {
    specversion: '1.0',
    id: message.id,
    source: `//pubsub.googleapis.com/projects/${project}/topics/${topic}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    datacontenttype: 'application/json',
    time: message.publishTime.toISOString(),
    data: {
      subscription: `projects/${project}/subscriptions/${topic}-pull`,
      message: {
        data: message.data.toString('base64'),
        messageId: message.id,
        attributes: { ...message.attributes },
        publishTime: message.publishTime.toISOString(),
      },
    },
  };
}
