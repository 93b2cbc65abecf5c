export interface LocalRedis {
  url: string;
  /** False when an already running server was found and reused; stop() then leaves it running. */
  started: boolean;
  stop(): Promise<void>;
}
export function redactRedisUrl(url: string): string;
export function pingRedis(url: string, options?: { timeoutMs?: number }): Promise<{ ok: true } | { ok: false; reason: string }>;
export function ensureRedisBinary(): string | undefined;
export function startLocalRedis(options: { bin: string; dataDir: string; readyTimeoutMs?: number }): Promise<LocalRedis>;
/** `url` is undefined when REDIS_CLUSTER_NODES is set: the service runs on that cluster. */
export function ensureRedis(root?: string): Promise<Omit<LocalRedis, 'url'> & { url: string | undefined }>;
export function pingClusterSeeds(text: string): Promise<{ ok: true; seeds: string[] } | { ok: false; seeds: string[]; reason: string }>;
