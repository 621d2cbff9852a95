#!/usr/bin/env node
/**
 * rolloutctl: the operator's command line (docs/cli.md). `rolloutctl --help` lists the commands;
 * `rolloutctl COMMAND --help` explains one. Exit codes: cli/command.ts (EXIT).
 */
import { readFileSync } from 'node:fs';
import type { CliIo } from './command.ts';
import { runCli } from './main.ts';

const io: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns,
  env: process.env,
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
};

const code = await runCli(process.argv.slice(2), io);
// Done: exit once what was printed is flushed, rather than wait for a cloud client that is still
// retrying a call rolloutctl gave up on (cli/deadline.ts).
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
