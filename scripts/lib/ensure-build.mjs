/** Builds (`npm run build`) when dist/main.js is missing or older than any file in src/ or a tsconfig. */
import { join } from 'node:path';
import { fail, log } from './log.mjs';
import { listFiles, mtimeOf } from './paths.mjs';
import { npm } from './run.mjs';

export async function ensureBuild(root) {
  const builtAt = mtimeOf(join(root, 'dist', 'main.js'));
  const inputs = [...listFiles(join(root, 'src')), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')];
  const newestInput = Math.max(0, ...inputs.map((file) => mtimeOf(file) ?? 0));
  if (builtAt !== undefined && builtAt >= newestInput) return;
  log(builtAt === undefined ? 'building (npm run build)' : 'sources changed: rebuilding (npm run build)');
  const status = await npm(['run', 'build'], { cwd: root });
  if (status !== 0) fail(`build failed (exit ${status})`, status);
}
