/**
 * Writes openapi/openapi.json from the route schemas; with --check, fails when the file is stale.
 * Usage: npm run openapi [-- --check]
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { mappingJsonSchema } from '../src/config/mapping.js';
import { buildOpenApiDocument, serializeOpenApi } from '../src/http/openapi.js';

const target = new URL('../openapi/openapi.json', import.meta.url);
const mappingTarget = new URL('../openapi/mapping.schema.json', import.meta.url);
const pkg: unknown = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
const files = [
  { url: target, name: 'openapi/openapi.json', text: serializeOpenApi(await buildOpenApiDocument(version)) },
  { url: mappingTarget, name: 'openapi/mapping.schema.json', text: serializeOpenApi(mappingJsonSchema()) },
];

if (process.argv.includes('--check')) {
  let stale = false;
  for (const file of files) {
    if ((await readFile(file.url, 'utf8').catch(() => '')) !== file.text) {
      process.stderr.write(`${file.name} is out of date with the schemas: run \`npm run openapi\` and commit the result\n`);
      stale = true;
    }
  }
  if (stale) process.exit(1);
  process.stdout.write('openapi/ is up to date\n');
} else {
  await mkdir(new URL('../openapi/', import.meta.url), { recursive: true });
  for (const file of files) {
    await writeFile(file.url, file.text);
    process.stdout.write(`wrote ${file.name}\n`);
  }
}
