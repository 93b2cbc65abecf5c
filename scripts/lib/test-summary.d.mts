export interface TestSummary {
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
}
export function parseSummary(output: string): TestSummary | undefined;
export function closingLine(summary: TestSummary): string;
