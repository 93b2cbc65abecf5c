/** What the admin route files share: queue-name schemas, paging, the common route options. */
import { z } from 'zod';
import { ALL_QUEUES, SOURCE_QUEUES } from '../../queue/catalog.js';
import { ADMIN_SECURITY, adminSwaggerTransform } from '../plugins/admin-auth.js';
import { ErrorReplySchema } from '../schemas/common.js';

export const QueueNameSchema = z.enum(ALL_QUEUES);
export const SourceQueueSchema = z.enum(SOURCE_QUEUES);

export const limit = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback).describe(`At most this many items (1–${max})`);

export const VALIDATION_REPLY = { 400: ErrorReplySchema.describe('A parameter, query or body does not match the schema; `fields` names them') };

/** Tags and security of every admin route in the OpenAPI document. */
export const ADMIN_COMMON = { tags: ['admin'], security: ADMIN_SECURITY };
export const ADMIN_CONFIG = { swaggerTransform: adminSwaggerTransform };
