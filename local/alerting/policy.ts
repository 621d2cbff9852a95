/**
 * Alert policies and notification channels in Cloud Monitoring's JSON shape (the REST
 * AlertPolicy / NotificationChannel resources), in the subset the local evaluator runs:
 * threshold conditions (optionally a ratio through denominatorFilter) with one aggregation
 * each, combiner OR, Pub/Sub channels. Any other field or value is refused with its path,
 * so a policy never silently means something else locally.
 */
import { z } from 'zod';
import type { Aggregation } from '../monitoring/aggregation.ts';
import { MonitoringApiError } from '../monitoring/api-error.ts';
import { type Filter, parseFilter } from '../monitoring/filter.ts';
import { parseAggregation } from '../monitoring/list-request.ts';

export class AlertPolicyError extends Error {
  constructor(message: string) {
    super(`${message} — fix the alert policy or notification channel given to the local alert evaluator`);
    this.name = 'AlertPolicyError';
  }
}

const duration = z.string().regex(/^\d+(\.\d+)?s$/, { error: 'must be a duration such as "60s"' });

const aggregationJson = z.strictObject({
  alignmentPeriod: duration,
  perSeriesAligner: z.string(),
  crossSeriesReducer: z.string().optional(),
  groupByFields: z.array(z.string()).optional(),
});

const thresholdJson = z.strictObject({
  filter: z.string().min(1),
  aggregations: z.array(aggregationJson).length(1, { error: 'exactly one aggregation is supported locally' }),
  denominatorFilter: z.string().min(1).optional(),
  denominatorAggregations: z
    .array(aggregationJson)
    .length(1, { error: 'exactly one denominator aggregation is supported locally' })
    .optional(),
  comparison: z.enum(['COMPARISON_GT', 'COMPARISON_LT']),
  thresholdValue: z.number(),
  duration: duration.default('0s'),
  trigger: z
    .strictObject({ count: z.literal(1, { error: 'only trigger.count 1 is supported locally' }) })
    .optional(),
  evaluationMissingData: z
    .enum(['EVALUATION_MISSING_DATA_INACTIVE', 'EVALUATION_MISSING_DATA_NO_OP'], {
      error: 'EVALUATION_MISSING_DATA_INACTIVE or EVALUATION_MISSING_DATA_NO_OP',
    })
    .optional(),
});

const policyJson = z.strictObject({
  name: z
    .string()
    .regex(/^projects\/[^/]+\/alertPolicies\/[^/]+$/)
    .optional(),
  displayName: z.string().min(1),
  userLabels: z.record(z.string(), z.string()).default({}),
  combiner: z.literal('OR', { error: 'only combiner OR is supported locally' }).default('OR'),
  enabled: z.boolean().default(true),
  severity: z.enum(['CRITICAL', 'ERROR', 'WARNING', 'SEVERITY_UNSPECIFIED']).optional(),
  documentation: z
    .strictObject({ content: z.string(), mimeType: z.string().default('text/markdown') })
    .optional(),
  conditions: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        displayName: z.string().min(1),
        conditionThreshold: thresholdJson,
      }),
    )
    .min(1),
  notificationChannels: z.array(z.string()).default([]),
  alertStrategy: z
    .strictObject({
      notificationPrompts: z.array(z.enum(['OPENED', 'CLOSED'])).optional(),
      autoClose: duration.optional(),
    })
    .optional(),
});

const channelJson = z.strictObject({
  name: z.string().regex(/^projects\/[^/]+\/notificationChannels\/[^/]+$/),
  type: z.literal('pubsub', { error: 'only pubsub channels are supported locally' }),
  displayName: z.string().optional(),
  labels: z.strictObject({
    topic: z.string().regex(/^projects\/[^/]+\/topics\/[^/]+$/, { error: 'must be projects/P/topics/T' }),
  }),
  enabled: z.boolean().default(true),
});

export type AlertPolicyJson = z.input<typeof policyJson>;
export type NotificationChannelJson = z.input<typeof channelJson>;

export interface ThresholdQuery {
  readonly filter: Filter;
  readonly aggregation: Aggregation;
}

export interface Condition {
  readonly name: string;
  readonly displayName: string;
  /** The condition as given, for the notification's `condition` field. */
  readonly json: Readonly<Record<string, unknown>>;
  readonly numerator: ThresholdQuery;
  readonly denominator: ThresholdQuery | null;
  readonly comparison: 'COMPARISON_GT' | 'COMPARISON_LT';
  readonly threshold: number;
  readonly durationMs: number;
  /** INACTIVE: missing data is "condition not met"; NO_OP: missing data changes nothing. */
  readonly missingData: 'inactive' | 'noOp';
}

export interface AlertPolicy {
  readonly name: string;
  readonly displayName: string;
  readonly userLabels: Readonly<Record<string, string>>;
  readonly enabled: boolean;
  readonly severity: string | null;
  readonly documentation: { readonly content: string; readonly mimeType: string } | null;
  readonly conditions: readonly Condition[];
  readonly notificationChannels: readonly string[];
  readonly notifyOnClose: boolean;
  readonly autoCloseMs: number;
}

export interface NotificationChannel {
  readonly name: string;
  readonly topic: string;
  readonly enabled: boolean;
}

/** The real API's smallest alignment period for alert conditions. */
const MIN_ALIGNMENT_SECONDS = 60;
const DEFAULT_AUTO_CLOSE_MS = 7 * 24 * 3600_000;

export function durationMs(text: string): number {
  return Math.round(Number(text.slice(0, -1)) * 1000);
}

function issues(error: z.ZodError, what: string): AlertPolicyError {
  return new AlertPolicyError(
    `${what}: ${error.issues.map((i) => `${i.path.join('.') || '$'} ${i.message}`).join('; ')}`,
  );
}

function query(filter: string, json: z.output<typeof aggregationJson>, where: string): ThresholdQuery {
  const periodMs = durationMs(json.alignmentPeriod);
  if (periodMs < MIN_ALIGNMENT_SECONDS * 1000) {
    throw new AlertPolicyError(`${where}: alignmentPeriod must be at least ${MIN_ALIGNMENT_SECONDS}s`);
  }
  try {
    const aggregation = parseAggregation(
      {
        alignmentPeriod: { seconds: Math.floor(periodMs / 1000), nanos: (periodMs % 1000) * 1_000_000 },
        perSeriesAligner: json.perSeriesAligner,
        crossSeriesReducer: json.crossSeriesReducer ?? 'REDUCE_NONE',
        groupByFields: json.groupByFields ?? [],
      },
      { minAlignmentPeriodNanos: 0n },
    );
    if (aggregation === null) throw new AlertPolicyError(`${where}: perSeriesAligner must not be ALIGN_NONE`);
    return { filter: parseFilter(filter), aggregation };
  } catch (error) {
    if (error instanceof MonitoringApiError) throw new AlertPolicyError(`${where}: ${error.message}`);
    throw error;
  }
}

function groupKey(q: ThresholdQuery): string {
  return JSON.stringify(q.aggregation.groupBy.map((f) => JSON.stringify(f)).sort());
}

/** A policy from its JSON; `project` names it when it has no `name`, `index` numbers it. */
export function parseAlertPolicy(json: unknown, project: string, index: number): AlertPolicy {
  const parsed = policyJson.safeParse(json);
  if (!parsed.success) throw issues(parsed.error, `alert policy #${index + 1}`);
  const p = parsed.data;
  const name = p.name ?? `projects/${project}/alertPolicies/${index + 1}`;
  const conditions = p.conditions.map((c, i): Condition => {
    const t = c.conditionThreshold;
    const where = `alert policy ${p.displayName}, condition ${c.displayName}`;
    const numerator = query(t.filter, t.aggregations[0] as z.output<typeof aggregationJson>, where);
    if ((t.denominatorFilter === undefined) !== (t.denominatorAggregations === undefined)) {
      throw new AlertPolicyError(`${where}: set denominatorFilter and denominatorAggregations together`);
    }
    const denominator =
      t.denominatorFilter === undefined || t.denominatorAggregations === undefined
        ? null
        : query(t.denominatorFilter, t.denominatorAggregations[0] as z.output<typeof aggregationJson>, where);
    if (denominator !== null && groupKey(denominator) !== groupKey(numerator)) {
      throw new AlertPolicyError(
        `${where}: aggregations and denominatorAggregations must group by the same fields, so numerator and denominator series pair up`,
      );
    }
    return {
      name: c.name ?? `${name}/conditions/${i + 1}`,
      displayName: c.displayName,
      json: c,
      numerator,
      denominator,
      comparison: t.comparison,
      threshold: t.thresholdValue,
      durationMs: durationMs(t.duration),
      missingData: t.evaluationMissingData === 'EVALUATION_MISSING_DATA_INACTIVE' ? 'inactive' : 'noOp',
    };
  });
  const prompts = p.alertStrategy?.notificationPrompts ?? ['OPENED', 'CLOSED'];
  return {
    name,
    displayName: p.displayName,
    userLabels: p.userLabels,
    enabled: p.enabled,
    severity: p.severity ?? null,
    documentation: p.documentation ?? null,
    conditions,
    notificationChannels: p.notificationChannels,
    notifyOnClose: prompts.includes('CLOSED'),
    autoCloseMs: p.alertStrategy?.autoClose ? durationMs(p.alertStrategy.autoClose) : DEFAULT_AUTO_CLOSE_MS,
  };
}

export function parseNotificationChannel(json: unknown): NotificationChannel {
  const parsed = channelJson.safeParse(json);
  if (!parsed.success) throw issues(parsed.error, 'notification channel');
  return { name: parsed.data.name, topic: parsed.data.labels.topic, enabled: parsed.data.enabled };
}
