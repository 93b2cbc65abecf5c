/**
 * The values of a pipeline's or transaction's replies, in order: ioredis answers each command with
 * `[error, value]` rather than rejecting, so the first error is thrown here.
 */
export function pipelineValues(results: [error: Error | null, value: unknown][] | null): unknown[] {
  return (results ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
