/**
 * Writes openapi/openapi.json from the route schemas; with --check, fails when the file is stale.
 * Usage: npm run openapi [-- --check]
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { buildOpenApiDocument, serializeOpenApi } from '../src/http/openapi.js';

const target = new URL('../openapi/openapi.json', import.meta.url);
const pkg: unknown = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
const text = serializeOpenApi(await buildOpenApiDocument(version));

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    process.stderr.write('openapi/openapi.json is out of date with the route schemas: run `npm run openapi` and commit the result\n');
    process.exit(1);
  }
  process.stdout.write('openapi/openapi.json is up to date\n');
} else {
  await mkdir(new URL('../openapi/', import.meta.url), { recursive: true });
  await writeFile(target, text);
  process.stdout.write('wrote openapi/openapi.json\n');
}
