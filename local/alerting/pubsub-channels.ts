/**
 * Delivery to `pubsub` notification channels with the official Pub/Sub client: the channel's
 * `topic` label (projects/P/topics/T) names the topic; the message data is the notification
 * JSON. `apiEndpoint` points the client at the emulator (else it honours PUBSUB_EMULATOR_HOST).
 */
import { PubSub } from '@google-cloud/pubsub';

export class PubSubChannels {
  readonly #clients = new Map<string, PubSub>();
  readonly #apiEndpoint: string | null;

  constructor(apiEndpoint: string | null) {
    this.#apiEndpoint = apiEndpoint;
  }

  async publish(topicName: string, message: unknown): Promise<string> {
    const m = /^projects\/([^/]+)\/topics\/([^/]+)$/.exec(topicName);
    if (m === null) throw new Error(`channel topic ${topicName} is not projects/P/topics/T`);
    const project = m[1] ?? '';
    let client = this.#clients.get(project);
    if (!client) {
      client = new PubSub({
        projectId: project,
        ...(this.#apiEndpoint ? { apiEndpoint: this.#apiEndpoint } : {}),
      });
      this.#clients.set(project, client);
    }
    return client.topic(m[2] ?? '').publishMessage({ json: message });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.close()));
    this.#clients.clear();
  }
}
