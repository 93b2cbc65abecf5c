export const SERVICE_NODE_FLAGS: string[];
export function serviceNodeFlags(nodeOptions?: string): string[];
