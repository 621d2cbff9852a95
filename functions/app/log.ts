/**
 * Structured logs in the shape Cloud Logging parses from stdout: one JSON object per line with
 * `severity`, `message`, the trace, and the rollout's labels. Never log secrets or payloads
 * beyond what identifies the problem. Every entry is at most MAX_LOG_ENTRY_BYTES (log-bounds.ts).
 */
import { serializeEntry } from './log-bounds.ts';

export { MAX_LOG_ENTRY_BYTES } from './log-bounds.ts';

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  notice(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogSink = (line: string) => void;

const stdout: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

export function createLogger(base: LogFields = {}, sink: LogSink = stdout): Logger {
  const write = (severity: Severity, message: string, fields?: LogFields): void => {
    const entry: Record<string, unknown> = {
      severity,
      message,
      time: new Date().toISOString(),
      ...base,
      ...fields,
    };
    sink(serializeEntry(entry));
  };
  return {
    debug: (m, f) => write('DEBUG', m, f),
    info: (m, f) => write('INFO', m, f),
    notice: (m, f) => write('NOTICE', m, f),
    warn: (m, f) => write('WARNING', m, f),
    error: (m, f) => write('ERROR', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, sink),
  };
}

/**
 * Cloud Logging trace field from a W3C `traceparent` or `X-Cloud-Trace-Context` value, so the
 * function's lines group under the request that caused them.
 */
export function traceFields(
  project: string,
  traceparent: string | undefined,
  cloudTrace?: string,
): LogFields {
  const fromW3c = traceparent?.match(/^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-/);
  const fromCloud = cloudTrace?.match(/^([\da-f]{32})(?:\/(\d+))?/);
  const trace = fromW3c?.[1] ?? fromCloud?.[1];
  if (trace === undefined) return {};
  const span = fromW3c?.[2] ?? fromCloud?.[2];
  return {
    'logging.googleapis.com/trace': `projects/${project}/traces/${trace}`,
    ...(span ? { 'logging.googleapis.com/spanId': span } : {}),
  };
}
