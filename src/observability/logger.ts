/**
 * The one logger factory and the one redact list. Log lines carry data in the object and a short
 * fixed lower-case message; secrets never reach a line (a test runs a whole flow with known secrets and
 * greps the captured logs for them: test/e2e/spine.test.ts).
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { redactUrl } from './redact-url.js';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a logged object. */
export const REDACT_PATHS = [
  'authorization',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'password',
  'secret',
  'apiKey',
  'apikey',
  '*.authorization',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.apikey',
  'headers.authorization',
  'headers.cookie',
  'headers["x-webhook-token"]',
  'headers.apikey',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-webhook-token"]',
  'req.headers.apikey',
  'res.headers["set-cookie"]',
];


export interface LoggerSettings {
  level: string;
  name?: string;
  destination?: DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: settings.name ? { service: settings.name } : { service: 'ghl-bridge' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url ? redactUrl(req.url) : undefined,
        ip: req.ip,
      }),
      err: pino.stdSerializers.err,
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
