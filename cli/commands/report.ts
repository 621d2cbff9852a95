/** rolloutctl report ID: one self-contained HTML file of a rollout's weights, windows, evidence and history. */
import { resolve } from 'node:path';
import { withStore } from '../cloud.ts';
import { type Command, EXIT, printJson, stringOption, UsageError } from '../command.ts';
import { fileSafe, loadReport, writeReport } from '../report/report.ts';
import { rolloutIdArg } from '../rollout-id.ts';

export const reportCommand: Command = {
  name: 'report',
  summary: 'one rollout as a self-contained HTML page with charts and its timeline',
  help: `usage: rolloutctl report ROLLOUT_ID [-o FILE] [--project P] [--json]

Reads the rollout and its history from Firestore and writes one HTML file that needs no network
to view (inline CSS and SVG, no script): canary weight over time, error ratio and p99 per backend
per judged window, the e-value per window on a log scale against its threshold 1/α, and every
history entry with its actor and reason, marked on each chart. Printable on A4.
  -o, --output FILE   where to write it (default report-ROLLOUT_ID.html); prints the file's path
  --json              print the report's data model instead of writing HTML
Exit 0; 2 when the file cannot be written; 3 when there is no such rollout; 5 when Firestore
cannot be reached.
example: rolloutctl report checkout-42 -o /tmp/checkout-42.html`,
  options: { output: { type: 'string', short: 'o' } },
  async run(ctx) {
    const rolloutId = rolloutIdArg(ctx.args[0]);
    if (rolloutId === undefined) throw new UsageError('report needs a rollout id');
    const data = await withStore(ctx, (s) => loadReport(s.store, rolloutId));
    if (ctx.json) {
      printJson(ctx.io, data);
      return EXIT.ok;
    }
    const path = resolve(stringOption(ctx, 'output') ?? `report-${fileSafe(rolloutId)}.html`);
    try {
      writeReport(data, path);
    } catch (error) {
      throw new UsageError(
        `-o: cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    ctx.io.out(`${path}\n`);
    return EXIT.ok;
  },
};
