/**
 * The seeding and consumer-action inputs, shared by the in-process methods and the control API.
 * Strict: an unknown field is a typo in a test, not something to ignore.
 */
import { z } from 'zod';
import { parseIsoDate } from './dates.js';

const Stars = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]);

export const BusinessUnitInputSchema = z.strictObject({
  id: z.string().min(1).optional(),
  domain: z.string().min(1).regex(/^[^\s/]+$/, 'must be a bare domain such as example.com'),
  displayName: z.string().min(1).optional(),
  trustScore: z.number().min(0).max(5),
  stars: z.number().min(0).max(5),
  totalReviews: z.number().int().min(0),
  country: z.string().length(2).optional(),
});
export type BusinessUnitInput = z.infer<typeof BusinessUnitInputSchema>;

export const ReviewInputSchema = z.strictObject({
  id: z.string().min(1).optional(),
  stars: Stars,
  title: z.string(),
  text: z.string(),
  referenceId: z.string().min(1).optional(),
  referralEmail: z.string().min(1).optional(),
  consumerName: z.string().min(1).optional(),
  consumerId: z.string().min(1).optional(),
  createdAt: z
    .string()
    .refine((text) => parseIsoDate(text) !== undefined, 'must be an ISO 8601 date')
    .optional(),
  businessUnitId: z.string().min(1).optional(),
  language: z.string().min(2).optional(),
});
export type ReviewInput = z.infer<typeof ReviewInputSchema>;

export const ReviewPatchSchema = z.strictObject({
  stars: Stars.optional(),
  title: z.string().optional(),
  text: z.string().optional(),
});
export type ReviewPatch = z.infer<typeof ReviewPatchSchema>;

export const ReplyInputSchema = z.strictObject({ text: z.string().min(1) });
