/**
 * Errors of the local Monitoring API as the real one reports them: a gRPC status code and a
 * message. The service hands them to the client unchanged.
 */
import { status } from '@grpc/grpc-js';

export class MonitoringApiError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = 'MonitoringApiError';
    this.code = code;
  }
}

export function invalidArgument(message: string): MonitoringApiError {
  return new MonitoringApiError(status.INVALID_ARGUMENT, message);
}

/** A request the real API would serve but this local stand-in does not: names the part and the subset. */
export function unsupported(part: string, supported: string): MonitoringApiError {
  return invalidArgument(
    `${part} is not supported by the local Monitoring server (supported: ${supported}).`,
  );
}
