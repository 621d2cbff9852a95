/** How the browser tests find Chromium, and the message they fail with when there is none. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, findChromium } from '../../support/chromium.ts';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('findChromium', () => {
  it('takes CHROME_PATH first, else chromium or chromium-browser on PATH', () => {
    dir = mkdtempSync(join(tmpdir(), 'chromium-'));
    expect(findChromium({ CHROME_PATH: process.execPath, PATH: dir })).toBe(process.execPath);
    writeFileSync(join(dir, 'chromium-browser'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findChromium({ PATH: `/nonexistent:${dir}` })).toBe(join(dir, 'chromium-browser'));
    writeFileSync(join(dir, 'chromium'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findChromium({ PATH: dir })).toBe(join(dir, 'chromium'));
  });

  it('fails naming what to install when there is none, or CHROME_PATH is not a program', () => {
    dir = mkdtempSync(join(tmpdir(), 'chromium-'));
    writeFileSync(join(dir, 'chromium'), 'not executable', { mode: 0o644 });
    expect(() => findChromium({ PATH: dir })).toThrow(CHROMIUM_MISSING);
    expect(CHROMIUM_MISSING).toContain('apt-get install -y chromium');
    expect(CHROMIUM_MISSING).toContain('CHROME_PATH');
    expect(() => findChromium({ CHROME_PATH: join(dir, 'chromium'), PATH: '' })).toThrow(
      `CHROME_PATH=${join(dir, 'chromium')} is not an executable`,
    );
  });
});
