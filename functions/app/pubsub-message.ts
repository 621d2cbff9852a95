/**
 * The Pub/Sub message inside the CloudEvent a function receives, whichever shape delivered it:
 * Eventarc's `google.cloud.pubsub.topic.v1.messagePublished` event (also what functions-framework
 * makes of a push request), or the raw push envelope functions-framework passes through unchanged
 * when a message has no data.
 */
import { DEFAULT_SHAPE, type InputLimits, readJson } from '../core/input-shape.ts';
import { InvalidInputError } from '../errors.ts';

export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Pub/Sub's own message ids are decimal numbers of about 16 digits. */
export const MAX_MESSAGE_ID = 128;
/** Attributes kept from a message (Pub/Sub allows 100). */
export const MAX_ATTRIBUTES = 100;

export interface PubSubMessage {
  readonly messageId: string;
  readonly data: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishTime: string | null;
  /** Short topic id from the event source, when known. */
  readonly topic: string | null;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function pick(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

/** Bytes that base64 text decodes to (without decoding it). */
function decodedBytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/** The message id of an event, if it has one, even when the event is not a usable message. */
export function messageIdOf(event: unknown): string | null {
  const message = pick(pick(event, 'data'), 'message') ?? pick(event, 'message');
  const id = pick(message, 'messageId') ?? pick(message, 'message_id') ?? pick(event, 'id');
  return typeof id === 'string' && id !== '' ? id : null;
}

export function messageFromEvent(event: unknown): PubSubMessage {
  const data = pick(event, 'data');
  const message = pick(data, 'message') ?? pick(event, 'message');
  if (!isObject(message)) {
    throw new InvalidInputError(
      'event carries no Pub/Sub message',
      [{ field: 'data.message', rule: 'is required' }],
      {
        code: 'INVALID_EVENT',
        hint: 'publish a Pub/Sub message to the topic; other event types are not handled here',
      },
    );
  }
  const messageId = String(message['messageId'] ?? message['message_id'] ?? pick(event, 'id') ?? '');
  if (messageId.length > MAX_MESSAGE_ID) {
    throw new InvalidInputError(
      'message id is too long',
      [{ field: 'message.messageId', rule: `must be at most ${MAX_MESSAGE_ID} characters` }],
      { code: 'INVALID_EVENT' },
    );
  }
  const rawData = message['data'];
  if (rawData !== undefined && typeof rawData !== 'string') {
    throw new InvalidInputError(
      'message data is not base64 text',
      [{ field: 'message.data', rule: 'must be base64' }],
      {
        code: 'INVALID_EVENT',
      },
    );
  }
  const encoded = rawData ?? '';
  if (decodedBytes(encoded) > MAX_MESSAGE_BYTES) {
    throw new InvalidInputError(
      `message data is larger than ${MAX_MESSAGE_BYTES} bytes`,
      [{ field: 'message.data', rule: `must be at most ${MAX_MESSAGE_BYTES} bytes` }],
      { code: 'INVALID_EVENT' },
    );
  }
  const attributes: Record<string, string> = {};
  const rawAttributes = message['attributes'];
  if (isObject(rawAttributes)) {
    for (const [key, value] of Object.entries(rawAttributes).slice(0, MAX_ATTRIBUTES))
      if (typeof value === 'string') attributes[key] = value;
  }
  const source = pick(event, 'source');
  const topic = typeof source === 'string' ? (source.match(/\/topics\/([^/]+)$/)?.[1] ?? null) : null;
  const publishTime = message['publishTime'];
  return {
    messageId,
    data: Buffer.from(encoded, 'base64'),
    attributes,
    publishTime: typeof publishTime === 'string' ? publishTime : null,
    topic,
  };
}

/** What a message body may be unless its function says otherwise. */
export const MESSAGE_LIMITS: InputLimits = { maxBytes: MAX_MESSAGE_BYTES, ...DEFAULT_SHAPE };

/**
 * JSON body of a message, or an InvalidInputError naming what is wrong: too large, not UTF-8,
 * not JSON, or nested/wide beyond `limits` (checked before any schema sees it; core/input-shape.ts).
 */
export function jsonOf(message: PubSubMessage, limits: InputLimits = MESSAGE_LIMITS): unknown {
  if (message.data.byteLength === 0) {
    throw new InvalidInputError(
      'message has no data',
      [{ field: 'message.data', rule: 'must be a JSON document' }],
      {
        code: 'INVALID_EVENT',
        hint: 'publish the JSON document as the message data, not as attributes',
      },
    );
  }
  const read = readJson(message.data, limits);
  if (read.ok) return read.value;
  const issue = read.issues[0];
  const what = issue?.rule.startsWith('must be valid JSON')
    ? 'message data is not JSON'
    : 'message data refused';
  throw InvalidInputError.fromIssues(
    what,
    read.issues.map((i) => ({ field: i.field === '$' ? 'message.data' : i.field, rule: i.rule })),
    { code: 'INVALID_EVENT', hint: 'publish one small JSON document (UTF-8) as the message data' },
  );
}
