/**
 * Hostile-input benchmark: every input of the seeded corpus (test/support/hostile-inputs.ts,
 * ≥ 10,000 inputs across every entry point) through the production handlers on Firestore and
 * Pub/Sub emulators started for the run, HTTP functions through functions-framework's own server.
 *
 * Prints, per entry point: inputs, p50 / p99 / max time to the refusal, the answers seen, the
 * largest log line; then the safety properties: no 5xx (for a Pub/Sub function: it threw, so it
 * would be redelivered), no log entry over the cap, every Firestore document unchanged, nothing
 * published but rollout.rejected events. Exits 1 when a safety property fails — never on timing.
 *
 *   npm run bench:hostile [-- --seed 1 --count 10500]
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MAX_LOG_ENTRY_BYTES } from '../functions/app/log.ts';
import { type Emulator, startEmulator } from '../local/emulators.ts';
import { type Outcome, startHarness } from '../test/support/hostile-harness.ts';
import { CORPUS_SIZE, type Entry, hostileCorpus } from '../test/support/hostile-inputs.ts';
import { formatTable, quantile } from './analysis/table.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: String(CORPUS_SIZE) },
  },
});
const seed = Number(values.seed);
const count = Number(values.count);
if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1)
  throw new Error('--seed and --count must be integers');

/**
 * What functions-framework itself writes to stderr (express prints a body it could not parse as
 * JSON, up to util.inspect's 10,000 characters, before our code runs): measured, not shown.
 */
let frameworkLongest = 0;
process.stderr.write = ((chunk: string | Uint8Array) => {
  for (const line of Buffer.from(chunk).toString('utf8').split('\n'))
    frameworkLongest = Math.max(frameworkLongest, Buffer.byteLength(line));
  return true;
}) as typeof process.stderr.write;
const progress = (line: string) => writeSync(2, `${line}\n`);

function rows(outcomes: readonly Outcome[]): string[][] {
  const entries = [...new Set(outcomes.map((o) => o.entry))] as Entry[];
  const row = (name: string, of: readonly Outcome[]): string[] => {
    const ms = of.map((o) => o.ms).sort((a, b) => a - b);
    const statuses = new Map<number, number>();
    for (const o of of) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
    const answers = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    return [
      name,
      String(of.length),
      quantile(ms, 0.5).toFixed(1),
      quantile(ms, 0.99).toFixed(1),
      (ms.at(-1) ?? 0).toFixed(1),
      String(Math.max(0, ...of.map((o) => o.logBytes))),
      answers.join(' '),
    ];
  };
  return [
    ...entries.map((e) =>
      row(
        e,
        outcomes.filter((o) => o.entry === e),
      ),
    ),
    row('all', outcomes),
  ];
}

async function main(): Promise<number> {
  const emulators: Emulator[] = await Promise.all([startEmulator('firestore'), startEmulator('pubsub')]);
  const [firestore, pubsub] = emulators;
  if (firestore === undefined || pubsub === undefined) throw new Error('emulators did not start');
  try {
    const harness = await startHarness({
      project: 'bench-hostile',
      firestoreHost: firestore.host,
      pubsubHost: pubsub.host,
    });
    const before = await harness.snapshot();
    const outcomes: Outcome[] = [];
    const started = performance.now();
    for (const input of hostileCorpus(seed, count)) {
      outcomes.push(await harness.run(input));
      if (outcomes.length % 1000 === 0) progress(`${outcomes.length} inputs…`);
    }
    const wallS = (performance.now() - started) / 1000;
    const after = await harness.snapshot();
    const published = await harness.published();
    const largest = Buffer.byteLength(harness.largestLine());
    await harness.close();
    const header = ['entry point', 'inputs', 'p50 ms', 'p99 ms', 'max ms', 'largest log line B', 'answers'];
    console.log(`hostile inputs: seed ${seed}, ${outcomes.length} inputs in ${wallS.toFixed(1)} s\n`);
    console.log(formatTable(header, rows(outcomes)));
    const fivexx = outcomes.filter((o) => o.status >= 500);
    const overCap = outcomes.filter((o) => o.logBytes > MAX_LOG_ENTRY_BYTES);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      (k) => before.get(k) !== after.get(k),
    );
    console.log(`
largest log line: ${largest} bytes (cap ${MAX_LOG_ENTRY_BYTES})
longest stderr line of functions-framework itself (outside our logger): ${frameworkLongest} bytes
5xx / thrown:     ${fivexx.length}${fivexx.length > 0 ? ` (first: ${JSON.stringify(fivexx[0])})` : ''}
log lines over the cap: ${overCap.length}
Firestore documents changed: ${changed.length}${changed.length > 0 ? ` (${changed.slice(0, 5).join(', ')})` : ''} of ${before.size}
published: ${published.rejected} rollout.rejected, ${published.other.length} other${published.other.length > 0 ? ` (${published.other.slice(0, 5).join(', ')})` : ''}`);
    const safe =
      fivexx.length === 0 && overCap.length === 0 && changed.length === 0 && published.other.length === 0;
    console.log(safe ? '\nsafety properties hold' : '\nSAFETY PROPERTY FAILED');
    return safe ? 0 : 1;
  } finally {
    await Promise.all(emulators.map((e) => e.stop()));
  }
}

process.exitCode = await main();
