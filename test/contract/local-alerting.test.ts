/**
 * Local alerting end to end: Cloud Run traffic written by the request recorder into the local
 * Monitoring server, a 5xx-ratio alert policy (denominatorFilter) evaluated over it, and the
 * incident notifications (schema 1.2) arriving on a Pub/Sub emulator subscription — open when
 * the canary's ratio crosses the threshold, closed when it recovers.
 */
import { type Message, PubSub, type Subscription } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseIncident } from '../../functions/app/alert.ts';
import { AlertEvaluator } from '../../local/alerting/evaluator.ts';
import { CloudRunRecorder } from '../../local/monitoring/cloud-run-recorder.ts';
import { type MonitoringServer, startMonitoringServer } from '../../local/monitoring/server.ts';

const PROJECT = 'alerting-contract';
const TOPIC = 'rollout-alerts';
const CHANNEL = {
  name: `projects/${PROJECT}/notificationChannels/controller`,
  type: 'pubsub',
  labels: { topic: `projects/${PROJECT}/topics/${TOPIC}` },
};

interface Notification {
  version: string;
  incident: Record<string, unknown> & { state: string; incident_id: string; policy_name: string };
}

/** The 5xx share of a canary's requests, as infra/monitoring.tf defines it for production. */
function ratioPolicy(service: string, prompts: string[] = ['OPENED', 'CLOSED']) {
  const selection = `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service}" AND metric.type = "run.googleapis.com/request_count"`;
  const aggregation = {
    alignmentPeriod: '60s',
    perSeriesAligner: 'ALIGN_DELTA',
    crossSeriesReducer: 'REDUCE_SUM',
    groupByFields: ['resource.label.service_name'],
  };
  return {
    displayName: `Canary ${service}: 5xx ratio above 0.05`,
    severity: 'CRITICAL',
    combiner: 'OR',
    userLabels: { rollout_canary: service },
    notificationChannels: [CHANNEL.name],
    alertStrategy: { notificationPrompts: prompts, autoClose: '1800s' },
    documentation: { content: `Rolls back the canary ${service}.`, mimeType: 'text/markdown' },
    conditions: [
      {
        displayName: `5xx / all requests of ${service}`,
        conditionThreshold: {
          filter: `${selection} AND metric.labels.response_code_class = "5xx"`,
          denominatorFilter: selection,
          aggregations: [aggregation],
          denominatorAggregations: [aggregation],
          comparison: 'COMPARISON_GT',
          thresholdValue: 0.05,
          duration: '60s',
          trigger: { count: 1 },
          evaluationMissingData: 'EVALUATION_MISSING_DATA_INACTIVE',
        },
      },
    ],
  };
}

let pubsub: PubSub;
let subscription: Subscription;
const received: Notification[] = [];

beforeAll(async () => {
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: inject('pubsubHost') });
  const [topic] = await pubsub.createTopic(TOPIC);
  [subscription] = await topic.createSubscription('watch-alerts');
  subscription.on('message', (m: Message) => {
    received.push(JSON.parse(m.data.toString()) as Notification);
    m.ack();
  });
  subscription.on('error', (e: Error) => console.error(`alerts subscription: ${e.message}`));
});

afterAll(async () => {
  await subscription.close();
  await pubsub.close();
});

/** The first notification of `policy` in `state`, once it has arrived. */
async function arrival(policy: string, state: 'open' | 'closed', timeoutMs = 30_000): Promise<Notification> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = received.find((n) => n.incident.policy_name === policy && n.incident.state === state);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no ${state} incident of "${policy}" arrived within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('evaluations on a controlled clock (timeScale 60: 60 s periods and durations last 1 s)', () => {
  let server: MonitoringServer;
  let recorder: CloudRunRecorder;
  let evaluator: AlertEvaluator;
  let clock = Math.floor(Date.now() / 1000) * 1000;

  beforeAll(async () => {
    server = await startMonitoringServer({ minAlignmentPeriodMs: 1000 });
    recorder = new CloudRunRecorder({
      endpoint: server.endpoint,
      project: PROJECT,
      now: () => clock,
      flushMs: 3_600_000,
    });
    evaluator = new AlertEvaluator({
      source: server,
      project: PROJECT,
      projectNumber: 123456789012,
      policies: [ratioPolicy('checkout-canary'), ratioPolicy('search-canary', ['OPENED'])],
      channels: [CHANNEL],
      timeScale: 60,
      evaluationMs: 1000,
      autoStart: false,
      now: () => clock,
      pubsubEndpoint: inject('pubsubHost'),
    });
  });

  afterAll(async () => {
    await evaluator.close();
    await recorder.close();
    await server.close();
  });

  /** One evaluation period: traffic recorded and flushed, then an evaluation at the same instant. */
  async function period(traffic: Readonly<Record<string, readonly (readonly [number, number])[]>>) {
    for (const [service, batches] of Object.entries(traffic)) {
      for (const [code, n] of batches) {
        for (let i = 0; i < n; i += 1) recorder.record({ service, responseCode: code, latencyMs: 12 });
      }
    }
    await recorder.flush();
    const report = await evaluator.evaluate();
    clock += 1000;
    return report;
  }

  type Traffic = Record<string, [code: number, n: number][]>;
  const healthy: Traffic = {
    'checkout-canary': [[200, 100]],
    'search-canary': [[200, 50]],
    'checkout-stable': [
      [200, 50],
      [500, 50],
    ],
  };
  const failing: Traffic = {
    'checkout-canary': [
      [200, 80],
      [503, 20],
    ],
    'search-canary': [
      [200, 40],
      [500, 10],
    ],
    'checkout-stable': [[200, 100]],
  };

  it('opens an incident within two evaluation periods of the canary crossing the threshold, and closes it after recovery', async () => {
    for (let i = 0; i < 2; i += 1) expect((await period(healthy)).notices).toEqual([]);

    const crossing = await period(failing);
    const next = await period(failing);
    const opened = [...crossing.notices, ...next.notices].filter((n) => n.state === 'open');
    expect(opened.map((n) => n.resource.labels['service_name']).sort()).toEqual([
      'checkout-canary',
      'search-canary',
    ]);
    const checkoutPolicy = 'Canary checkout-canary: 5xx ratio above 0.05';
    const published = evaluator.published.find(
      (p) => (p.message as unknown as Notification).incident.policy_name === checkoutPolicy,
    );
    expect(published?.evaluation).toBeLessThanOrEqual(crossing.index + 1);

    const open = await arrival(checkoutPolicy, 'open');
    expect(open.version).toBe('1.2');
    expect(open.incident).toMatchObject({
      state: 'open',
      scoping_project_id: PROJECT,
      scoping_project_number: 123456789012,
      policy_name: checkoutPolicy,
      policy_user_labels: { rollout_canary: 'checkout-canary' },
      condition_name: '5xx / all requests of checkout-canary',
      resource: { type: 'cloud_run_revision', labels: { service_name: 'checkout-canary' } },
      metric: { type: 'run.googleapis.com/request_count', labels: {} },
      threshold_value: '0.05',
      observed_value: '0.200',
      ended_at: null,
      severity: 'Critical',
      documentation: { content: 'Rolls back the canary checkout-canary.', mime_type: 'text/markdown' },
    });
    expect(open.incident['started_at']).toBe(Math.floor((clock - 1000) / 1000));
    expect(open.incident['condition']).toMatchObject({
      name: expect.stringMatching(/^projects\/alerting-contract\/alertPolicies\/1\/conditions\/1$/),
      conditionThreshold: { comparison: 'COMPARISON_GT', thresholdValue: 0.05 },
    });
    expect(String(open.incident['summary'])).toMatch(/above the threshold of 0.05 with a value of 0.200/);
    // The controller's own parser accepts it and maps it to the canary.
    expect(parseIncident(open)).toMatchObject({
      state: 'open',
      policyLabels: { rollout_canary: 'checkout-canary' },
    });

    const still = await period(failing);
    expect(still.notices).toEqual([]);

    const recovered = await period(healthy);
    expect(recovered.notices.map((n) => [n.state, n.resource.labels['service_name']]).sort()).toEqual([
      ['closed', 'checkout-canary'],
      ['closed', 'search-canary'],
    ]);
    const closed = await arrival(checkoutPolicy, 'closed');
    expect(closed.incident.incident_id).toBe(open.incident.incident_id);
    expect(closed.incident['ended_at']).toBe(Math.floor((clock - 1000) / 1000));
    expect(closed.incident['observed_value']).toBe('0');
    expect(String(closed.incident['summary'])).toMatch(/returned to normal/);

    // The search policy notifies on OPENED only: its incident closed without a message.
    const searchPolicy = 'Canary search-canary: 5xx ratio above 0.05';
    await arrival(searchPolicy, 'open');
    expect(
      evaluator.published
        .filter((p) => (p.message as unknown as Notification).incident.policy_name === searchPolicy)
        .map((p) => (p.message as unknown as Notification).incident.state),
    ).toEqual(['open']);
    // The stable service's errors never concern a canary policy.
    expect(received.some((n) => JSON.stringify(n.incident['resource']).includes('checkout-stable'))).toBe(
      false,
    );
  });
});

describe('on timers, as the local cloud runs it (timeScale 120: 60 s last 500 ms; evaluation every 600 ms)', () => {
  let server: MonitoringServer;
  let recorder: CloudRunRecorder;
  let evaluator: AlertEvaluator;
  let generator: NodeJS.Timeout | null = null;
  let failing = true;

  beforeAll(async () => {
    server = await startMonitoringServer({ minAlignmentPeriodMs: 100 });
    recorder = new CloudRunRecorder({ endpoint: server.endpoint, project: PROJECT, flushMs: 50 });
    evaluator = new AlertEvaluator({
      source: server,
      project: PROJECT,
      policies: [ratioPolicy('payments-canary')],
      channels: [CHANNEL],
      timeScale: 120,
      evaluationMs: 600,
      pubsubEndpoint: inject('pubsubHost'),
    });
  });

  afterAll(async () => {
    if (generator) clearInterval(generator);
    await evaluator.close();
    await recorder.close();
    await server.close();
  });

  function serve(): void {
    recorder.record({ service: 'payments-canary', responseCode: 200, latencyMs: 8 });
    recorder.record({ service: 'payments-canary', responseCode: failing ? 503 : 200, latencyMs: 8 });
  }

  it('publishes open within two evaluations of the failure and closed within two of the recovery', async () => {
    const policy = 'Canary payments-canary: 5xx ratio above 0.05';
    const decidedAt = (state: string) =>
      evaluator.published.find((p) => {
        const n = p.message as unknown as Notification;
        return n.incident.policy_name === policy && n.incident.state === state;
      })?.evaluation;

    generator = setInterval(serve, 20);
    serve();
    await recorder.flush();
    const failureSeen = evaluator.evaluations;
    const open = await arrival(policy, 'open');
    expect(decidedAt('open')).toBeLessThanOrEqual(failureSeen + 2);
    expect(open.incident['observed_value']).toBe('0.500');

    failing = false;
    serve();
    await recorder.flush();
    const recoverySeen = evaluator.evaluations;
    const closed = await arrival(policy, 'closed');
    expect(decidedAt('closed')).toBeLessThanOrEqual(recoverySeen + 2);
    expect(closed.incident.incident_id).toBe(open.incident.incident_id);
  });
});
