import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { listFiles } from './paths.mjs';

const TEST_FILE = /\.test\.ts$/;

/** Every `*.test.ts` under `<root>/test`, as sorted paths relative to root with `/` separators. */
export function collectTestFiles(root) {
  return listFiles(join(root, 'test'))
    .filter((file) => TEST_FILE.test(file))
    .map((file) => toPosix(relative(root, file)))
    .sort();
}

function toPosix(path) {
  return path.split(sep).join('/');
}

/**
 * Narrows the test files with `npm test -- <filter...>`: a filter that names an existing file or
 * folder selects it (a folder: every test file below it); any other text, or a path that selects
 * nothing, selects the files whose path contains it. Returns the selection and the filters that
 * matched nothing.
 */
export function filterTestFiles(root, files, filters) {
  if (filters.length === 0) return { selected: files, unmatched: [] };
  const selected = new Set();
  const unmatched = [];
  for (const filter of filters) {
    const absolute = resolve(root, filter);
    let matches;
    if (existsSync(absolute) && statSync(absolute).isDirectory()) {
      const prefix = toPosix(relative(root, absolute));
      matches = files.filter((file) => prefix === '' || file.startsWith(`${prefix}/`));
    } else if (existsSync(absolute)) {
      const path = toPosix(relative(root, absolute));
      matches = files.filter((file) => file === path);
    }
    // Text such as `scripts` may also name a folder outside test/: then it is matched as text.
    if (!matches || matches.length === 0) matches = files.filter((file) => file.includes(toPosix(filter)));
    if (matches.length === 0) unmatched.push(filter);
    for (const match of matches) selected.add(match);
  }
  return { selected: [...selected].sort(), unmatched };
}
