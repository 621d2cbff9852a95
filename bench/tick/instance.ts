/**
 * One advanceDue instance for `npm run bench:tick`: the production runtime and handler, fed by a
 * streaming pull on the advance topic's subscription the way a push subscription feeds a Cloud
 * Run instance (a handler that returns acknowledges; one that throws asks for redelivery). The
 * Pub/Sub emulator pushes to one endpoint at most two messages at a time, far from Google's push,
 * so the benchmark pulls instead. Reports on stdout, one JSON object per line: `{"ready": true}`,
 * `{"changes": n}` (rollout changes stored so far) as it goes, and `{"counts": …}` when stopped
 * (SIGTERM).
 */
import { type Message, PubSub } from '@google-cloud/pubsub';
import { loadConfig } from '../../functions/app/config.ts';
import { createLogger } from '../../functions/app/log.ts';
import { advanceDueHandler } from '../../functions/handlers/advance-due.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { createRuntime } from '../../functions/wiring.ts';
import { CountingStore } from '../../local/counting-store.ts';
import { cloudEventOf } from '../../local/pubsub-delivery.ts';

const project = process.env['GOOGLE_CLOUD_PROJECT'] ?? '';
const subscriptionName = process.env['BENCH_SUBSCRIPTION'] ?? '';
const inFlight = Number(process.env['BENCH_IN_FLIGHT'] ?? '16');
const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

let errors = 0;
let firstError: string | null = null;
/** How often the executor found a message already handled, or the rollout moved by someone else. */
const seen = { duplicates: 0, conflicts: 0 };
/** Changes stored (each logged once by the executor with its event). */
let changes = 0;
const log = createLogger({}, (line) => {
  const entry = JSON.parse(line) as { severity?: string; message?: string; event?: string };
  const message = String(entry.message);
  if (entry.event !== undefined) changes += 1;
  if (message.startsWith('message already processed')) seen.duplicates += 1;
  if (message.startsWith('another driver moved the rollout first')) seen.conflicts += 1;
  if (entry.severity !== 'ERROR' && entry.severity !== 'WARNING') return;
  errors += 1;
  firstError ??= message;
});
let counting: CountingStore | null = null;
const rt = createRuntime(loadConfig(process.env), log, (store) => {
  counting = new CountingStore(store);
  return counting;
});
const handle = advanceDueHandler(rt);
const pubsub = new PubSub({ projectId: project });
// Flow control far above what is handled at once: pausing the stream made the emulator deliver
// thousands of messages again. At most `inFlight` are handled at once; the rest wait here, as
// requests wait for a free slot of an instance's concurrency.
const subscription = pubsub.subscription(subscriptionName, {
  flowControl: { maxMessages: 100_000, allowExcessMessages: true },
  streamingOptions: { maxStreams: 1 },
});

let handled = 0;
let retried = 0;
let reported = -1;
let running = 0;
const waiting: Message[] = [];

function deliver(m: Message): void {
  running += 1;
  const event = cloudEventOf(
    { id: m.id, data: m.data, attributes: m.attributes, publishTime: m.publishTime },
    project,
    TOPICS.advance,
  );
  handle(event)
    .then(
      () => {
        handled += 1;
        m.ack();
      },
      () => {
        retried += 1;
        m.nack();
      },
    )
    .finally(() => {
      running -= 1;
      const next = waiting.shift();
      if (next !== undefined) deliver(next);
    });
}

subscription.on('message', (m: Message) => {
  if (running < inFlight) deliver(m);
  else waiting.push(m);
});
subscription.on('error', (error: Error) => {
  errors += 1;
  firstError ??= error.message;
});
const progress = setInterval(() => {
  if (changes === reported) return;
  reported = changes;
  say({ changes });
}, 50);

process.once('SIGTERM', () => {
  clearInterval(progress);
  void (async () => {
    await subscription.close();
    say({
      counts: { handled, changes, retried, errors, firstError, ...seen, reads: counting?.counts ?? null },
    });
    process.exit(0);
  })();
});
say({ ready: true });
