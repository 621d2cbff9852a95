/** rolloutctl report ID: one self-contained HTML file of a rollout's weights, windows, evidence and history. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { rolloutStatus } from '../../functions/app/status.ts';
import { withStore } from '../cloud.ts';
import { type Command, EXIT, printJson, stringOption, UsageError } from '../command.ts';
import { reportData } from '../report/data.ts';
import { reportHtml } from '../report/html.ts';

export const reportCommand: Command = {
  name: 'report',
  summary: 'one rollout as a self-contained HTML report: weights, error ratios, p99, e-values, timeline',
  help: `usage: rolloutctl report ROLLOUT_ID [-o FILE] [--project P] [--json]

Reads the rollout and its history from Firestore and writes one HTML file that needs no network
to view (inline CSS and SVG, no script): canary weight over time, error ratio and p99 per backend
per judged window, the e-value per window on a log scale against its threshold 1/α, and every
history entry with its actor and reason, marked on each chart. Printable on A4.
  -o, --output FILE   where to write it (default report-ROLLOUT_ID.html); prints the file's path
  --json              print the report's data model instead of writing HTML
Exit 0, 3 when there is no such rollout, 5 when Firestore cannot be reached.
example: rolloutctl report checkout-42 -o /tmp/checkout-42.html`,
  options: { output: { type: 'string', short: 'o' } },
  async run(ctx) {
    const [rolloutId] = ctx.args;
    if (rolloutId === undefined) throw new UsageError('report needs a rollout id');
    const data = reportData(await withStore(ctx, (s) => rolloutStatus(s, { rolloutId })));
    if (ctx.json) {
      printJson(ctx.io, data);
      return EXIT.ok;
    }
    const path = resolve(stringOption(ctx, 'output') ?? `report-${fileSafe(rolloutId)}.html`);
    writeFileSync(path, reportHtml(data));
    ctx.io.out(`${path}\n`);
    return EXIT.ok;
  },
};

/** A rollout id as part of a file name: anything but letters, digits, '.', '_' and '-' becomes '_'. */
export function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
