export function collectTestFiles(root: string): string[];
export function filterTestFiles(root: string, files: string[], filters: string[]): { selected: string[]; unmatched: string[] };
