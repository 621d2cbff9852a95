/** Benchmark worker: runs the cells it is sent and posts each result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_BETS } from '../../functions/core/analysis/bursts.ts';
import { createSequentialJudge } from '../../functions/core/analysis/default-judge.ts';
import { DEFAULT_PRIOR, type GridPriorOptions, gridPrior } from '../../functions/core/analysis/sequential.ts';
import { type Cell, defaultAnalysisPlan } from './cells.ts';
import { PREVIOUS_PRIOR, REFERENCE_MIXTURE } from './reference.ts';
import { runCell } from './simulate.ts';

export interface WorkerSetup {
  readonly runs: number;
  readonly seed: number;
  readonly alpha: number;
  readonly prior: GridPriorOptions | null;
}

const setup = workerData as WorkerSetup;
const judges = {
  judge: createSequentialJudge(DEFAULT_BETS, 'clustered'),
  independent: createSequentialJudge(setup.prior ? gridPrior(setup.prior) : DEFAULT_PRIOR),
  reference: createSequentialJudge(REFERENCE_MIXTURE),
  previous: createSequentialJudge(PREVIOUS_PRIOR),
};
const plan = defaultAnalysisPlan(setup.alpha);

parentPort?.on('message', (cell: Cell) => {
  const result = runCell({
    scenario: cell.scenario,
    runs: setup.runs,
    seed: setup.seed,
    stream: cell.index,
    judges,
    plan,
  });
  parentPort?.postMessage({ index: cell.index, result });
});
