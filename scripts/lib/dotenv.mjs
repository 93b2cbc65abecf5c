import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

/**
 * A deliberately small `.env` reader for the setup scripts (the service parses `.env` itself):
 * `KEY=value` lines, `#` comments, optional `export `, single or double quotes around the value.
 */
export function parseDotEnv(text) {
  const values = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    values[match[1]] = value;
  }
  return values;
}

export function readDotEnv(root) {
  try {
    return parseDotEnv(readFileSync(join(root, '.env'), 'utf8'));
  } catch {
    return {};
  }
}

/** A variable from the environment, else from `.env`; the process environment wins. */
export function envValue(root, name) {
  const fromProcess = process.env[name];
  if (fromProcess !== undefined && fromProcess !== '') return fromProcess;
  const fromFile = readDotEnv(root)[name];
  return fromFile === '' ? undefined : fromFile;
}
