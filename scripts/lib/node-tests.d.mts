export interface TestRun {
  code: number;
  output: string;
}
export function runNodeTests(options: {
  cwd: string;
  files: string[];
  flags?: string[];
  env?: NodeJS.ProcessEnv;
  concurrency?: number;
  timeoutMs?: number;
  echo?: boolean;
}): Promise<TestRun>;
export function judgeRun(run: TestRun): { exitCode: number; closing: string | undefined; problem: string | undefined };
