/**
 * Where `rolloutctl watch` writes what it sees: a terminal block redrawn in place (cursor up,
 * erase line; never a full-screen clear), plain lines for pipes, or JSON lines.
 */
import type { HistoryEntry, Rollout } from '../../functions/core/state.ts';
import { type CliIo, printJson } from '../command.ts';
import { changeRecord, type Outcome, outcomeLine, plainLine, renderBlock } from './render.ts';

export interface WatchSink {
  /** The rollout changed: `fresh` are the history entries not shown before, oldest first. */
  change(r: Rollout, history: readonly HistoryEntry[], fresh: readonly HistoryEntry[]): void;
  /** The rollout ended. */
  end(r: Rollout, outcome: Outcome, history: readonly HistoryEntry[]): void;
}

const ESC = '\u001b[';

/** Redraws the lines it last drew: cursor up over them, each line erased and written again. */
export class InPlace {
  #drawn = 0;
  readonly #io: CliIo;

  constructor(io: CliIo) {
    this.#io = io;
  }

  draw(lines: readonly string[]): void {
    let text = this.#drawn > 0 ? `${ESC}${this.#drawn}A` : '';
    for (const line of lines) text += `\r${ESC}2K${line}\n`;
    // Fewer lines than last time: erase what is left below (not the whole screen).
    if (lines.length < this.#drawn) text += `${ESC}0J`;
    this.#io.out(text);
    this.#drawn = lines.length;
  }
}

/** One block per rollout, in the order they were first seen, redrawn on every change. */
export function terminalSink(io: CliIo, width: number): WatchSink {
  const screen = new InPlace(io);
  const blocks = new Map<string, string[]>();
  const redraw = () => screen.draw([...blocks.values()].flat());
  return {
    change(r, history) {
      blocks.set(r.id, renderBlock(r, history, width));
      redraw();
    },
    end(r, outcome, history) {
      blocks.set(r.id, [...renderBlock(r, history, width), `  ${outcomeLine(r, outcome, history)}`]);
      redraw();
    },
  };
}

export function plainSink(io: CliIo): WatchSink {
  return {
    change(r, _history, fresh) {
      for (const entry of fresh) io.out(`${plainLine(r, entry)}\n`);
    },
    end(r, outcome, history) {
      io.out(`${outcomeLine(r, outcome, history)}\n`);
    },
  };
}

export function jsonSink(io: CliIo): WatchSink {
  return {
    change(r, _history, fresh) {
      for (const entry of fresh) printJson(io, changeRecord(r, entry));
    },
    end(r, outcome) {
      printJson(io, {
        type: 'watch.outcome',
        rolloutId: r.id,
        outcome,
        phase: r.status.phase,
        version: r.version,
      });
    },
  };
}

export function sinkFor(io: CliIo, json: boolean): WatchSink {
  if (json) return jsonSink(io);
  // A pseudo-terminal without a size reports 0 columns.
  return io.isTTY ? terminalSink(io, io.columns || 80) : plainSink(io);
}
