/**
 * Bundles rolloutctl (cli/rolloutctl.ts) into dist/cli/rolloutctl.js, the package's `bin`: Node
 * does not strip TypeScript types under node_modules, so the installed command must be
 * JavaScript. One ESM file for Node 22 with the entry's `#!/usr/bin/env node` line; npm
 * packages stay external (they are the package's dependencies, installed with it).
 * Run by `npm run build:cli` and by `prepack` (so `npm pack` / `npm publish` ship a fresh build).
 *
 *   node scripts/build-cli.ts [--quiet]
 */
import { chmod, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_DIST = join(ROOT, 'dist', 'cli');
export const CLI_BIN = join(CLI_DIST, 'rolloutctl.js');

export interface BuiltCli {
  readonly bin: string;
  readonly bytes: number;
  /** The npm packages the bundle imports (external: installed as the package's dependencies). */
  readonly packages: readonly string[];
}

export async function buildCli(outFile: string = CLI_BIN): Promise<BuiltCli> {
  await rm(dirname(outFile), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'cli', 'rolloutctl.ts')],
    outfile: outFile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  await chmod(outFile, 0o755);
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
  const packages = [
    ...new Set(imports.filter((i) => i.external && !i.path.startsWith('node:')).map((i) => i.path)),
  ].sort();
  return { bin: outFile, bytes: (await stat(outFile)).size, packages };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildCli()
    .then((built) => {
      if (process.argv.includes('--quiet')) return;
      const kib = (built.bytes / 1024).toFixed(1);
      console.log(
        `built ${relative(process.cwd(), built.bin)} (${kib} KiB); imports ${built.packages.join(', ')}`,
      );
    })
    .catch((error: unknown) => {
      console.error(`build:cli failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
}
