/**
 * Port: starting the workflow execution that drives a rollout (production adapter: Workflow
 * Executions v1).
 */
export interface WorkflowExecutions {
  /** Starts an execution of the workflow (full name projects/P/locations/L/workflows/W); returns the execution's full name. */
  start(workflow: string, argument: Readonly<Record<string, unknown>>): Promise<string>;
}
