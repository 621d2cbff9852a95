import { describe, expect, it } from 'vitest';
import { createLogger, MAX_LOG_ENTRY_BYTES } from '../../../functions/app/log.ts';

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ function: 'test' }, (line) => lines.push(line)) };
}

describe('every log entry is at most MAX_LOG_ENTRY_BYTES', () => {
  it('bounds a huge message and huge fields, keeping severity, message, rolloutId and trace', () => {
    const { lines, log } = capture();
    const huge = 'x'.repeat(15_000_000);
    log
      .child({ rolloutId: 'r-1', 'logging.googleapis.com/trace': 'projects/p/traces/abc' })
      .error(`rejected: ${huge}`, {
        body: huge,
        problems: Array.from({ length: 100_000 }, (_, i) => ({ field: `k${i}`, rule: huge.slice(0, 5000) })),
        nested: Array.from({ length: 50 }, () => ({ a: huge.slice(0, 2000), b: huge.slice(0, 2000) })),
      });
    const [line] = lines;
    expect(Buffer.byteLength(line ?? '')).toBeLessThanOrEqual(MAX_LOG_ENTRY_BYTES);
    const entry = JSON.parse(line ?? '{}') as Record<string, unknown>;
    expect(entry['severity']).toBe('ERROR');
    expect(entry['rolloutId']).toBe('r-1');
    expect(entry['logging.googleapis.com/trace']).toBe('projects/p/traces/abc');
    expect(String(entry['message']).length).toBeLessThanOrEqual(2000);
    expect(entry['truncated']).toBe(true);
    expect(entry['originalBytes']).toBeGreaterThan(MAX_LOG_ENTRY_BYTES);
  });

  it('escapes control characters so a value cannot fake an entry or reorder text', () => {
    const { lines, log } = capture();
    log.warn('bad id "a\n{"severity":"INFO"}\u202e"', { id: 'x\r\ny\u0085' });
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry['message']).toBe('bad id "a\\u000a{"severity":"INFO"}\\u202e"');
    expect(entry['id']).toBe('x\\u000d\\u000ay\\u0085');
  });

  it('leaves an ordinary entry as it was', () => {
    const { lines, log } = capture();
    log.info('started', { rolloutId: 'r-2', weights: { stable: 90, canary: 10 }, error: new Error('boom') });
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({
      severity: 'INFO',
      message: 'started',
      function: 'test',
      rolloutId: 'r-2',
      weights: { stable: 90, canary: 10 },
      error: { name: 'Error', message: 'boom' },
    });
  });
});
