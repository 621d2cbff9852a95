/**
 * How one attempt's outcome reads as a hook status (docs/hooks.md, HookStatus in core/hooks.ts):
 * a 2xx passes unless its declared JSON does not parse or, for a check, its JSON `result` says
 * otherwise; 429, 5xx, timeouts and unreachable hosts are worth another attempt; other answers
 * (3xx: redirects are never followed, 4xx, invalid answers) are final.
 */
import { HOOK_EXCERPT_CHARS, type HookPoint, type HookStatus } from '../core/hooks.ts';
import type { AttemptOutcome } from './hook-attempt.ts';

export interface AttemptReading {
  readonly status: HookStatus;
  readonly code: number | null;
  readonly excerpt: string;
  /** Whether another attempt may answer differently. */
  readonly retryable: boolean;
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/i;
const CHECK_RESULTS: Readonly<Record<string, HookStatus>> = {
  pass: 'passed',
  fail: 'failed',
  inconclusive: 'inconclusive',
};

/** At most HOOK_EXCERPT_CHARS characters, control characters replaced by spaces, `secret` blanked. */
export function excerptOf(text: string, secret: string | null = null): string {
  const redacted = secret !== null && secret !== '' ? text.split(secret).join('[token]') : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = redacted.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return Array.from(clean).slice(0, HOOK_EXCERPT_CHARS).join('');
}

export function readAttempt(point: HookPoint, outcome: AttemptOutcome, token: string | null): AttemptReading {
  if (outcome.kind !== 'answer') {
    return { status: outcome.kind, code: null, excerpt: excerptOf(outcome.detail), retryable: true };
  }
  const { code } = outcome;
  const excerpt = excerptOf(outcome.body, token);
  if (outcome.oversized) {
    return {
      status: 'invalidAnswer',
      code,
      excerpt: excerptOf(`answer over the size limit: ${excerpt}`),
      retryable: false,
    };
  }
  if (code < 200 || code > 299) {
    return { status: 'failed', code, excerpt, retryable: code === 429 || code >= 500 };
  }
  if (!JSON_TYPE.test(outcome.contentType)) return { status: 'passed', code, excerpt, retryable: false };
  const status = jsonStatus(point, outcome.body);
  if (typeof status === 'string') return { status, code, excerpt, retryable: false };
  return {
    status: 'invalidAnswer',
    code,
    excerpt: excerptOf(`${status.problem}: ${excerpt}`),
    retryable: false,
  };
}

/** A 2xx JSON answer's status, or why it is not a valid answer. */
function jsonStatus(point: HookPoint, body: string): HookStatus | { readonly problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { problem: 'declared JSON that does not parse' };
  }
  if (point !== 'check' || typeof parsed !== 'object' || parsed === null || !('result' in parsed)) {
    return 'passed';
  }
  const result = (parsed as { result: unknown }).result;
  const status = typeof result === 'string' ? CHECK_RESULTS[result] : undefined;
  return status ?? { problem: 'a check result must be "pass", "fail" or "inconclusive"' };
}
