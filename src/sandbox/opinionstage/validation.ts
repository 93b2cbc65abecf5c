/**
 * Input validation with JSON:API's 422 shape: one error object per issue, `source.pointer` a JSON
 * pointer into the document (RFC 6901). A missing body counts as `{}`.
 */
import type { z } from 'zod';
import { osErrors } from './errors.js';

function pointer(path: readonly PropertyKey[]): string {
  return path.map((key) => `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const subject = input === undefined || input === null ? {} : input;
  const result = schema.safeParse(subject);
  if (result.success) return result.data;
  throw osErrors.invalid(
    result.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
      return { pointer: pointer(issue.path), detail: `${issue.message}${keys}` };
    }),
  );
}
