/**
 * Request validation with GHL's 422 shape: `message` is an array of class-validator style sentences
 * ("email must be an email", "property foo should not exist"), as common-schemas.json declares.
 */
import type { z } from 'zod';
import { ghlErrors } from './errors.js';

type Issue = z.core.$ZodIssue;

export const TYPE_PHRASES: Record<string, string> = {
  string: 'must be a string',
  boolean: 'must be a boolean value',
  number: 'must be a number conforming to the specified constraints',
  int: 'must be an integer number',
  array: 'must be an array',
  object: 'must be an object',
};

function pathName(path: readonly PropertyKey[]): string {
  return path.length === 0 ? 'body' : path.map(String).join('.');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Reflect.get(current, key);
  }
  return current;
}

function describe(issue: Issue, input: unknown): string[] {
  const name = pathName(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const prefix = issue.path.length === 0 ? '' : `${name}.`;
      return issue.keys.map((key) => `property ${prefix}${key} should not exist`);
    }
    case 'invalid_type': {
      const phrase = `${name} ${TYPE_PHRASES[issue.expected] ?? `must be a ${issue.expected}`}`;
      return valueAt(input, issue.path) === undefined ? [`${name} should not be empty`, phrase] : [phrase];
    }
    case 'invalid_format':
      return [issue.format === 'email' ? `${name} must be an email` : `${name} must be a valid ${issue.format}`];
    case 'too_big':
      return [`${name} must not be greater than ${String(issue.maximum)}`];
    case 'too_small':
      return issue.origin === 'string' && issue.minimum === 1
        ? [`${name} should not be empty`]
        : [`${name} must not be less than ${String(issue.minimum)}`];
    case 'invalid_value':
      return [`${name} must be one of the following values: ${issue.values.map(String).join(', ')}`];
    case 'custom':
      return [issue.message];
    default:
      return [`${name} ${issue.message}`];
  }
}

/** Parses `input` or throws the 422 GHL answers with. A missing body counts as `{}`. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const subject = input === undefined || input === null ? {} : input;
  const result = schema.safeParse(subject);
  if (result.success) return result.data;
  const messages = [...new Set(result.error.issues.flatMap((issue) => describe(issue, subject)))];
  throw ghlErrors.unprocessable(messages);
}
