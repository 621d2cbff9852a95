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
process.exitCode = code;
