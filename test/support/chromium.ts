/**
 * Finds an installed Chromium for the browser tests, never downloading one: CHROME_PATH, else
 * `chromium` or `chromium-browser` on PATH (Debian's `chromium` package). Absent, it throws a
 * message naming what to install, so the test fails saying so.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const CHROMIUM_MISSING =
  'no Chromium found for the browser tests: install it (apt-get install -y chromium) or set CHROME_PATH to a Chrome or Chromium executable';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findChromium(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env['CHROME_PATH'];
  if (configured) {
    if (executable(configured)) return configured;
    throw new Error(`CHROME_PATH=${configured} is not an executable; ${CHROMIUM_MISSING}`);
  }
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  for (const name of ['chromium', 'chromium-browser']) {
    const found = dirs.map((d) => join(d, name)).find(executable);
    if (found) return found;
  }
  throw new Error(CHROMIUM_MISSING);
}
