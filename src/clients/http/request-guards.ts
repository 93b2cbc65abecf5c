/**
 * The checks every client runs on what it is about to send, before anything leaves: a body or query
 * against its zod schema (a mismatch is our bug and must not reach the upstream), and each id that
 * goes into a path. Each client builds one pair with its own error class and name.
 */
import type { z } from 'zod';

export interface RequestGuards {
  /** The parsed value, or the client's invalid-request error naming `what` and the first issues. */
  checked<S extends z.ZodType>(schema: S, value: z.input<S>, what: string): z.output<S>;
  /** Encodes one path segment; '', '.' and '..' are refused (URL parsing would resolve the dots away). */
  segment(id: string): string;
}

/** The codes of a client's error class for a refused body or query and for a refused id. */
export interface RequestGuardCodes<Code extends string> {
  invalidRequest: Code;
  invalidId: Code;
}

/** `path: message` of the first `max` issues, `;`-separated; `root` names an issue with an empty path. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], max = 5, root = '(root)'): string {
  return issues
    .slice(0, max)
    .map((issue) => `${issue.path.join('.') || root}: ${issue.message}`)
    .join('; ');
}

/** `upstream` is the name in messages, e.g. 'GHL' → "invalid GHL contact update: …"; errors are `ErrorClass`es. */
export function createRequestGuards<Code extends string>(
  upstream: string,
  ErrorClass: new (code: Code, message: string) => Error,
  codes: RequestGuardCodes<Code>,
): RequestGuards {
  return {
    checked(schema, value, what) {
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      throw new ErrorClass(codes.invalidRequest, `invalid ${upstream} ${what}: ${describeIssues(parsed.error.issues)}`);
    },
    segment(id) {
      if (id === '' || id === '.' || id === '..') throw new ErrorClass(codes.invalidId, `invalid ${upstream} id ${JSON.stringify(id)}`);
      return encodeURIComponent(id);
    },
  };
}
