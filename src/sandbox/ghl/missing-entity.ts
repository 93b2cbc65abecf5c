/**
 * How the simulator answers for a contact, note or task that is not there. GHL's spec lists only
 * 200/400/401/422 for update-note and update-task, and integrations see "not found" come back as 400
 * or 422 as well as 404; the switch lets a test hold the bridge to each. The body keeps GHL's shapes
 * (GHL's published error schemas): 400 `{statusCode, message}`, 422 with `message` as an array.
 */
import { z } from 'zod';
import { GhlHttpError, type MissingEntity } from './errors.js';

export const MissingEntityStatusSchema = z.union([z.literal(404), z.literal(400), z.literal(422)]);
export type MissingEntityStatus = z.infer<typeof MissingEntityStatusSchema>;

export interface MissingEntitySwitch {
  status: MissingEntityStatus;
}

/** The answer for a missing entity under the switch's current status. */
export function missingEntityError(entity: MissingEntity, status: MissingEntityStatus): GhlHttpError {
  const message = `${entity} not found`;
  switch (status) {
    case 404:
      return new GhlHttpError(404, { statusCode: 404, message }, { missing: entity });
    case 400:
      return new GhlHttpError(400, { statusCode: 400, message }, { missing: entity });
    case 422:
      return new GhlHttpError(422, { statusCode: 422, message: [message], error: 'Unprocessable Entity' }, { missing: entity });
  }
}
