/** Benchmark worker: runs the cells it is sent and posts each result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { createSequentialJudge } from '../../functions/core/analysis/default-judge.ts';
import { DEFAULT_PRIOR, type GridPriorOptions, gridPrior } from '../../functions/core/analysis/sequential.ts';
import { type Cell, defaultAnalysisPlan } from './cells.ts';
import { runCell } from './simulate.ts';

export interface WorkerSetup {
  readonly runs: number;
  readonly seed: number;
  readonly alpha: number;
  readonly prior: GridPriorOptions | null;
}

const setup = workerData as WorkerSetup;
const judge = createSequentialJudge(setup.prior ? gridPrior(setup.prior) : DEFAULT_PRIOR);
const plan = defaultAnalysisPlan(setup.alpha);

parentPort?.on('message', (cell: Cell) => {
  const result = runCell({
    scenario: cell.scenario,
    runs: setup.runs,
    seed: setup.seed,
    stream: cell.index,
    judge,
    plan,
  });
  parentPort?.postMessage({ index: cell.index, result });
});
