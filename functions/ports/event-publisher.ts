/**
 * Port: publishing JSON messages to a Pub/Sub topic (production adapter: @google-cloud/pubsub).
 */
export interface EventPublisher {
  /** Publishes one message; returns its message id. */
  publish(topic: string, data: unknown, attributes?: Readonly<Record<string, string>>): Promise<string>;
  /** Publishes one message whose data is JSON the caller already encoded; returns its message id. */
  publishEncoded(topic: string, json: string, attributes?: Readonly<Record<string, string>>): Promise<string>;
}
