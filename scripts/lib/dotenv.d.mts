export function parseDotEnv(text: string): Record<string, string>;
export function readDotEnv(root: string): Record<string, string>;
export function envValue(root: string, name: string): string | undefined;
