/**
 * Evaluates the root module's variable validations with Terraform itself: infra/variables.tf is
 * copied alone into a scratch directory (it declares no providers, so `terraform init` needs no
 * network) and planned with the given values; a validation that rejects a value fails the plan
 * with its error_message.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INFRA, type TerraformResult, terraform } from './terraform.ts';

export async function planVariables(values: Readonly<Record<string, string>>): Promise<TerraformResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-variables-'));
  try {
    await copyFile(join(INFRA, 'variables.tf'), join(dir, 'variables.tf'));
    const init = await terraform(['init', '-input=false', '-backend=false'], { cwd: dir });
    if (init.code !== 0) throw new Error(`terraform init failed:\n${init.stderr || init.stdout}`);
    const vars = Object.entries(values).flatMap(([name, value]) => ['-var', `${name}=${value}`]);
    return await terraform(['plan', '-input=false', '-no-color', '-refresh=false', ...vars], { cwd: dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
