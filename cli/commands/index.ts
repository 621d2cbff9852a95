/** Every rolloutctl command, in the order `rolloutctl --help` lists them. */
import type { Command } from '../command.ts';
import { controlCommand } from './control.ts';
import { historyCommand } from './history.ts';
import { listCommand } from './list.ts';
import { planCommand } from './plan.ts';
import { reportCommand } from './report.ts';
import { startCommand } from './start.ts';
import { statusCommand } from './status.ts';
import { validateCommand } from './validate.ts';
import { watchCommand } from './watch.ts';

export const COMMANDS: readonly Command[] = [
  validateCommand,
  planCommand,
  startCommand,
  watchCommand,
  statusCommand,
  listCommand,
  historyCommand,
  reportCommand,
  controlCommand,
];
