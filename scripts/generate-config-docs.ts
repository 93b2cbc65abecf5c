/**
 * Writes README.md's "Configuration reference" tables from EnvSchema's descriptions and defaults,
 * grouped as .env.example groups them; with --check, fails when README.md is stale.
 * Usage: npm run docs:config [-- --check]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { EnvSchema } from '../src/config/env.js';

export const CONFIG_START_MARKER = '<!-- config:start -->';
export const CONFIG_END_MARKER = '<!-- config:end -->';

/** The variables `secretValues()` in src/config/env.ts collects; the unit test keeps the two in step. */
export const SECRET_VARIABLES: readonly string[] = [
  'GHL_PRIVATE_TOKEN',
  'GHL_CLIENT_SECRET',
  'GHL_WEBHOOK_SECRET',
  'TRUSTPILOT_API_KEY',
  'TRUSTPILOT_API_SECRET',
  'TRUSTPILOT_PASSWORD',
  'TRUSTPILOT_WEBHOOK_SECRET',
  'OPINIONSTAGE_API_KEY',
  'OPINIONSTAGE_WEBHOOK_SECRET',
  'OPINIONSTAGE_PUSH_SECRET',
  'ALERT_WEBHOOK_SECRET',
  'ADMIN_TOKEN',
  'VIEWER_TOKEN',
  'ENCRYPTION_KEY',
];

export class ConfigDocsError extends Error {
  readonly code = 'CONFIG_DOCS_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigDocsError';
  }
}

export interface EnvGroup {
  name: string;
  variables: string[];
}

/** Group order and membership from `# --- Name ---` headers; schema keys the file lacks go last under "Other". */
export function parseEnvGroups(exampleText: string, keys: readonly string[]): EnvGroup[] {
  const groups: EnvGroup[] = [];
  let current: EnvGroup | undefined;
  for (const line of exampleText.split(/\r?\n/)) {
    const header = /^#\s*---\s*(.+?)\s*---\s*$/.exec(line);
    if (header?.[1]) {
      current = { name: header[1], variables: [] };
      groups.push(current);
      continue;
    }
    const name = /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1];
    if (name && keys.includes(name)) {
      if (!current) {
        current = { name: 'General', variables: [] };
        groups.push(current);
      }
      if (!groups.some((group) => group.variables.includes(name))) current.variables.push(name);
    }
  }
  const listed = new Set(groups.flatMap((group) => group.variables));
  const rest = keys.filter((key) => !listed.has(key));
  if (rest.length > 0) groups.push({ name: 'Other', variables: rest });
  return groups.filter((group) => group.variables.length > 0);
}

/** The schema under `.default()`/`.optional()`, to tell a plain number from a duration parsed into ms. */
function innermost(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  while (current instanceof z.core.$ZodDefault || current instanceof z.core.$ZodOptional) {
    current = current._zod.def.innerType;
  }
  return current;
}

const DURATION_UNITS = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
] as const;

function formatDuration(ms: number): string {
  if (ms === 0) return '0 (off)';
  for (const [unit, size] of DURATION_UNITS) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const RateLimitValueSchema = z.object({ max: z.number(), windowMs: z.number() });

/** The default as someone would write it in .env, or `none`. */
export function formatDefault(schema: z.ZodType): string {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success) return 'none';
  const value: unknown = parsed.data;
  if (value === undefined || value === null) return 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((item) => `\`${String(item)}\``).join(', ');
  const rateLimit = RateLimitValueSchema.safeParse(value);
  if (rateLimit.success) return `\`${rateLimit.data.max}/${rateLimit.data.windowMs / 1000}\``;
  if (typeof value === 'number') {
    return innermost(schema) instanceof z.ZodNumber ? `\`${value}\`` : `\`${formatDuration(value)}\``;
  }
  if (typeof value === 'string') {
    // A built-in PEM key is too long for a table cell.
    if (value.includes('-----BEGIN')) return 'built-in PEM key';
    return `\`${value}\``;
  }
  if (typeof value === 'boolean') return `\`${value}\``;
  return 'none';
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** The Markdown between README's config markers, without the markers. */
export function generateConfigDocs(exampleText: string): string {
  const shape: Record<string, z.ZodType> = EnvSchema.shape;
  const keys = Object.keys(shape);
  const sections = parseEnvGroups(exampleText, keys).map((group) => {
    const rows = group.variables.map((key) => {
      const schema = shape[key];
      if (!schema) throw new ConfigDocsError(`${key} is not in EnvSchema`);
      const description = schema.description ?? z.globalRegistry.get(schema)?.description;
      if (!description) throw new ConfigDocsError(`${key} has no .describe() text in src/config/env.ts`);
      const name = SECRET_VARIABLES.includes(key) ? `\`${key}\` (secret)` : `\`${key}\``;
      return `| ${name} | ${cell(description)} | ${cell(formatDefault(schema))} |`;
    });
    return [`### ${group.name}`, '', '| variable | meaning | default |', '| --- | --- | --- |', ...rows].join('\n');
  });
  return sections.join('\n\n');
}

/** README text with the generated section between the markers replaced. */
export function replaceConfigSection(readme: string, generated: string): string {
  const start = readme.indexOf(CONFIG_START_MARKER);
  const end = readme.indexOf(CONFIG_END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new ConfigDocsError(`README.md needs the markers ${CONFIG_START_MARKER} and ${CONFIG_END_MARKER}, in that order`);
  }
  return `${readme.slice(0, start + CONFIG_START_MARKER.length)}\n${generated}\n${readme.slice(end)}`;
}

/** The text currently between the markers, trimmed of the newlines next to them. */
export function extractConfigSection(readme: string): string {
  const start = readme.indexOf(CONFIG_START_MARKER);
  const end = readme.indexOf(CONFIG_END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new ConfigDocsError(`README.md needs the markers ${CONFIG_START_MARKER} and ${CONFIG_END_MARKER}, in that order`);
  }
  return readme.slice(start + CONFIG_START_MARKER.length, end).replace(/^\r?\n/, '').replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const readmeUrl = new URL('../README.md', import.meta.url);
  const exampleText = await readFile(new URL('../.env.example', import.meta.url), 'utf8');
  const readme = await readFile(readmeUrl, 'utf8');
  const generated = generateConfigDocs(exampleText);
  if (process.argv.includes('--check')) {
    if (extractConfigSection(readme) !== generated) {
      process.stderr.write('README.md "Configuration reference" is out of date with src/config/env.ts: run `npm run docs:config` and commit the result\n');
      process.exit(1);
    }
    process.stdout.write('README.md configuration reference is up to date\n');
    return;
  }
  const updated = replaceConfigSection(readme, generated);
  if (updated === readme) {
    process.stdout.write('README.md configuration reference already up to date\n');
    return;
  }
  await writeFile(readmeUrl, updated);
  process.stdout.write('wrote README.md configuration reference\n');
}

// Run only as a script, so the unit test can import the functions without touching README.md.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
