/** EventPublisher on Pub/Sub (official client; honours PUBSUB_EMULATOR_HOST locally). */
import { PubSub, type Topic } from '@google-cloud/pubsub';
import { RefusedError, TransientError } from '../errors.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import { classifyGoogleError } from './google-errors.ts';

export class PubSubPublisher implements EventPublisher {
  readonly #client: PubSub;
  readonly #topics = new Map<string, Topic>();

  constructor(projectId: string) {
    this.#client = new PubSub({ projectId });
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      topic = this.#client.topic(name, { batching: { maxMessages: 100, maxMilliseconds: 5 } });
      this.#topics.set(name, topic);
    }
    return topic;
  }

  async publish(
    topic: string,
    data: unknown,
    attributes: Readonly<Record<string, string>> = {},
  ): Promise<string> {
    return this.#send(topic, { json: data, attributes: { ...attributes } });
  }

  async publishEncoded(
    topic: string,
    json: string,
    attributes: Readonly<Record<string, string>> = {},
  ): Promise<string> {
    return this.#send(topic, { data: Buffer.from(json, 'utf8'), attributes: { ...attributes } });
  }

  async #send(topic: string, message: Parameters<Topic['publishMessage']>[0]): Promise<string> {
    try {
      return await this.#topic(topic).publishMessage(message);
    } catch (error) {
      const failure = classifyGoogleError(error);
      const text = `publishing to ${topic} failed: ${failure.detail}`;
      if (failure.kind === 'transient' || failure.kind === 'conflict') {
        throw new TransientError(text, {
          code: 'PUBLISH_UNAVAILABLE',
          hint: 'retried automatically',
          cause: error,
        });
      }
      throw new RefusedError(text, {
        code: 'PUBLISH_REFUSED',
        hint: `check that topic ${topic} exists and the function's service account may publish to it`,
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
