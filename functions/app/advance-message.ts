/**
 * The message the tick publishes for each rollout it hands out (topic rollout-advance), and how
 * advanceDue reads it back. A due rollout's message carries the rollout document as the tick's
 * query returned it, so the function that advances it reads nothing before it decides; the
 * executor's commit is fenced on the version, so a copy that went stale meanwhile is refused and
 * the rollout read again. Only the tick may publish to the topic (IAM), so the copy is trusted as
 * far as its shape and its id and version; anything else is refused as malformed.
 */
import { z } from 'zod';
import { type InputLimits, readJson } from '../core/input-shape.ts';
import { ACTIVE_PHASES, type Rollout, type RouteOperation, TERMINAL_PHASES } from '../core/state.ts';
import { ROLLOUT_ID, validate } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';

export type AdvanceMessage =
  /** `rollout`: the document as the due query read it; null when it was too large to carry. */
  | {
      readonly kind: 'due';
      readonly rolloutId: string;
      readonly version: number;
      readonly actor: string;
      readonly rollout: Rollout | null;
    }
  /** Route operations of the rollout that never reported back, to settle. */
  | {
      readonly kind: 'operations';
      readonly rolloutId: string;
      readonly actor: string;
      readonly operations: readonly RouteOperation[];
    };

/** A due rollout's copy is left out of its message above this size (advanceDue then reads it). */
export const CARRY_MAX_BYTES = 200 * 1024;

/** Recorded with the change a due message causes: a second delivery of it changes nothing. */
export function advanceDedupeKey(rolloutId: string, version: number): string {
  return `advance:${rolloutId}:${version}`;
}

/** One message per (rollout, version): how the tick tells copies of the same work apart. */
export function workKey(message: AdvanceMessage): string {
  return message.kind === 'due'
    ? `due:${message.rolloutId}:${message.version}`
    : `operations:${message.rolloutId}`;
}

/** Numbers JSON cannot write (Firestore can store them) travel tagged. */
const NON_FINITE = '$nonFinite';

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const tagged = (value as Record<string, unknown>)[NON_FINITE];
  if (Object.keys(value).length !== 1 || typeof tagged !== 'string') return value;
  return ['NaN', 'Infinity', '-Infinity'].includes(tagged) ? Number(tagged) : value;
}

export function encodeAdvance(message: AdvanceMessage): string {
  return JSON.stringify(message, replacer);
}

/** The message for a due rollout: with its copy, unless that would make the message too large. */
export function dueMessage(rollout: Rollout, actor: string, carryMaxBytes = CARRY_MAX_BYTES): string {
  const base = { kind: 'due', rolloutId: rollout.id, version: rollout.version, actor } as const;
  const carried = encodeAdvance({ ...base, rollout });
  return Buffer.byteLength(carried) <= carryMaxBytes ? carried : encodeAdvance({ ...base, rollout: null });
}

const phases = [...ACTIVE_PHASES, ...TERMINAL_PHASES] as [string, ...string[]];
const actor = z.string({ error: 'is required' }).min(1).max(200);
const rolloutId = z.string({ error: 'is required' }).regex(ROLLOUT_ID, { error: 'must be a rollout id' });
const version = z.number({ error: 'must be a number' }).int().min(1);

/** Enough of a rollout document to tell it is one; the rest is the core's own shape. */
const rolloutCopy = z.looseObject({
  id: rolloutId,
  version,
  status: z.looseObject({ phase: z.enum(phases, { error: 'must be a phase' }) }),
  spec: z.looseObject({ route: z.string() }),
  plan: z.looseObject({ steps: z.array(z.unknown()) }),
  weights: z.strictObject({ stable: z.number(), canary: z.number() }),
  analysis: z.looseObject({}),
  driver: z.looseObject({ kind: z.enum(['workflow', 'scheduler']) }),
  intent: z.looseObject({}).nullable(),
  nextActionAt: z.number().nullable(),
});

const operation = z.strictObject({
  name: z.string().min(1).max(1000),
  rolloutId,
  route: z.string().min(1).max(1000),
  intentId: z.number().int(),
  weights: z.strictObject({ stable: z.number(), canary: z.number() }),
  startedAt: z.number(),
});

const messageSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('due'),
        rolloutId,
        version,
        actor,
        rollout: rolloutCopy.nullable(),
      }),
      z.strictObject({
        kind: z.literal('operations'),
        rolloutId,
        actor,
        operations: z.array(operation).min(1).max(1000),
      }),
    ],
    { error: 'must be {"kind": "due" | "operations", …} as the tick publishes it' },
  )
  .refine(
    (m) =>
      m.kind !== 'due' ||
      m.rollout === null ||
      (m.rollout.id === m.rolloutId && m.rollout.version === m.version),
    { error: 'the rollout copy must have the id and version the message names', path: ['rollout'] },
  )
  .refine((m) => m.kind !== 'operations' || m.operations.every((op) => op.rolloutId === m.rolloutId), {
    error: 'every operation must belong to the rollout the message names',
    path: ['operations'],
  });

/** An advance message carries at most a rollout document (CARRY_MAX_BYTES) besides a few fields. */
export const ADVANCE_LIMITS: InputLimits = {
  maxBytes: 256 * 1024,
  maxDepth: 32,
  maxKeys: 1000,
  maxItems: 5000,
};

/** Reads an advance message, or throws InvalidInputError (never retried) naming what is wrong. */
export function parseAdvance(data: Buffer): AdvanceMessage {
  const read = readJson(data, ADVANCE_LIMITS, reviver);
  if (!read.ok) {
    const rule = read.issues[0]?.rule ?? 'must be valid JSON';
    throw new InvalidInputError(
      `advance message refused: ${rule}`,
      read.issues.map((i) => ({ field: i.field === '$' ? 'message.data' : i.field, rule: i.rule })),
      { code: 'INVALID_ADVANCE', hint: 'only the tick publishes to this topic; see docs/state.md' },
    );
  }
  const body = read.value;
  const parsed = validate(messageSchema, body);
  if (parsed.ok) return parsed.value as AdvanceMessage;
  throw InvalidInputError.fromIssues('advance message rejected', parsed.issues, {
    code: 'INVALID_ADVANCE',
    hint: 'only the tick publishes to this topic; see docs/state.md',
  });
}

/** The start of a message body, printable ASCII only, for a log line about a message refused. */
export function excerpt(data: Buffer, max = 120): string {
  const text = data
    .subarray(0, max)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '?');
  return data.byteLength > max ? `${text}…` : text;
}
