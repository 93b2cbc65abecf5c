/**
 * The simulator's records and the input schemas that create them. Shapes follow the only observed
 * Opinion Stage schemas (Airbyte's Opinion Stage source manifest); lead-form questions
 * (`lead: true`, kinds email/name/phone) are an inference, not documented.
 */
import { z } from 'zod';

export const ITEM_TYPES = ['quiz', 'survey', 'form', 'poll'] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

/** Kinds whose questions are lead-form fields unless the input says otherwise. */
export const LEAD_KINDS: readonly string[] = ['email', 'name', 'full_name', 'first_name', 'last_name', 'phone'];

const IsoTimestampSchema = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { message: 'must be an ISO 8601 timestamp' })
  .transform((value) => new Date(value).toISOString());

export const QuestionInputSchema = z.strictObject({
  id: z.string().min(1).optional(),
  title: z.string().min(1),
  kind: z.string().min(1),
  lead: z.boolean().optional(),
});
export type QuestionInput = z.input<typeof QuestionInputSchema>;

export const ItemInputSchema = z.strictObject({
  id: z.string().min(1).optional(),
  title: z.string().min(1),
  type: z.enum(ITEM_TYPES).optional(),
  status: z.string().min(1).optional(),
  createdAt: IsoTimestampSchema.optional(),
  questions: z.array(QuestionInputSchema),
});
export type ItemInput = z.input<typeof ItemInputSchema>;

export const ResponseInputSchema = z.strictObject({
  id: z.string().min(1).optional(),
  /** Keyed by question id or question title. */
  answers: z.record(z.string().min(1), z.union([z.string(), z.array(z.string())])),
  result: z.strictObject({ title: z.string(), text: z.string().optional(), score: z.number().optional() }).optional(),
  /** The personal link's URL parameters (e.g. contact_id, email). */
  query: z.record(z.string().min(1), z.string()).optional(),
  createdAt: IsoTimestampSchema.optional(),
  durationSeconds: z.number().min(0).optional(),
  sendWebhook: z.boolean().optional(),
  /** Serve the record with `attributes: null`, or with `attributes.answers: null`, as real records sometimes are. */
  nulls: z.enum(['attributes', 'answers']).optional(),
});
export type ResponseInput = z.input<typeof ResponseInputSchema>;

export interface Question {
  id: string;
  title: string;
  kind: string;
  lead: boolean;
  createdAt: string;
  modifiedAt: string;
}

export interface Item {
  id: string;
  title: string;
  type: ItemType;
  status: string;
  createdAt: string;
  modifiedAt: string;
  /** The public page of the item; personal links add query parameters to it. */
  landingUrl: string;
  questions: Question[];
}

export interface Answer {
  /** The question's id. */
  question: string;
  selection: string[];
}

export interface ItemResponse {
  id: string;
  itemId: string;
  answers: Answer[];
  result: { title: string; text: string; score?: number } | null;
  query: Record<string, string>;
  createdAt: string;
  durationSeconds: number;
  /** Which part the API serves as null (the webhook still carries the flat lead fields). */
  nulls?: 'attributes' | 'answers';
}
