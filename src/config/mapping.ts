/**
 * The mapping: which GHL custom field receives which value, the note template, tag rules and
 * follow-up task rules. Loaded once from MAPPING_FILE (JSON) over built-in defaults; its JSON Schema
 * is generated into openapi/mapping.schema.json.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BridgeError } from '../observability/errors.js';

/** A GHL custom field key such as `contact.trustpilot_score`; `null` turns that value off. */
const FieldKey = z
  .string()
  .regex(/^contact\.[a-z0-9_]{1,100}$/, 'expected a contact field key such as contact.trustpilot_score')
  .nullable();

const Tag = z.string().min(1).max(100);

const StarRange = z
  .strictObject({
    minStars: z.number().int().min(1).max(5).default(1),
    maxStars: z.number().int().min(1).max(5).default(5),
  })
  .refine((range) => range.minStars <= range.maxStars, 'minStars must not exceed maxStars');

export const FollowUpRuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/).describe('Stable id: one task per review and rule'),
  when: StarRange.describe('Reviews whose stars fall in this range open the task'),
  title: z.string().min(1).max(200).describe('Template: {{stars}}, {{title}}, {{consumerName}}, {{contactName}}'),
  body: z.string().max(5_000).default('{{excerpt}}\n\n{{reviewUrl}}'),
  dueInBusinessDays: z.number().int().min(0).max(60).default(1).describe('Counted from the review date (Monday to Friday)'),
  assignTo: z
    .union([z.literal('contact-owner'), z.literal('nobody'), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)])
    .default('contact-owner')
    .describe('"contact-owner", "nobody", or a GHL user id'),
  resolvedWhen: z
    .strictObject({
      companyReplied: z.boolean().default(true),
      minStars: z.number().int().min(1).max(5).nullable().default(4),
    })
    .default({ companyReplied: true, minStars: 4 })
    .describe('The task is completed when the company replied or the review reaches minStars'),
});
export type FollowUpRule = z.infer<typeof FollowUpRuleSchema>;

export const TrustpilotMappingSchema = z.strictObject({
  ownReview: z
    .strictObject({
      enabled: z.boolean().default(true),
      matchBy: z
        .array(z.enum(['reviewId', 'referenceId', 'email']))
        .min(1)
        .default(['reviewId', 'referenceId', 'email'])
        .describe('How a contact is matched to its review of us, in order: stored review id field, GHL contact id as referenceId, email'),
    })
    .default({ enabled: true, matchBy: ['reviewId', 'referenceId', 'email'] }),
  companyScore: z
    .strictObject({
      enabled: z.boolean().default(true),
      skipDomains: z.array(z.string()).default([]).describe('Extra domains never looked up (free-mail domains are always skipped)'),
    })
    .default({ enabled: true, skipDomains: [] }),
  fields: z
    .strictObject({
      reviewId: FieldKey.default('contact.trustpilot_review_id'),
      reviewStars: FieldKey.default('contact.trustpilot_review_stars'),
      reviewTitle: FieldKey.default('contact.trustpilot_review_title'),
      reviewExcerpt: FieldKey.default('contact.trustpilot_review_excerpt'),
      reviewDate: FieldKey.default('contact.trustpilot_review_date'),
      reviewUrl: FieldKey.default('contact.trustpilot_review_url'),
      consumerId: FieldKey.default('contact.trustpilot_consumer_id'),
      consumerReviewCount: FieldKey.default('contact.trustpilot_consumer_reviews'),
      companyTrustScore: FieldKey.default('contact.trustpilot_trustscore'),
      companyStars: FieldKey.default('contact.trustpilot_company_stars'),
      companyReviewCount: FieldKey.default('contact.trustpilot_company_reviews'),
      companyBusinessUnitId: FieldKey.default('contact.trustpilot_business_unit_id'),
    })
    .default({
      reviewId: 'contact.trustpilot_review_id',
      reviewStars: 'contact.trustpilot_review_stars',
      reviewTitle: 'contact.trustpilot_review_title',
      reviewExcerpt: 'contact.trustpilot_review_excerpt',
      reviewDate: 'contact.trustpilot_review_date',
      reviewUrl: 'contact.trustpilot_review_url',
      consumerId: 'contact.trustpilot_consumer_id',
      consumerReviewCount: 'contact.trustpilot_consumer_reviews',
      companyTrustScore: 'contact.trustpilot_trustscore',
      companyStars: 'contact.trustpilot_company_stars',
      companyReviewCount: 'contact.trustpilot_company_reviews',
      companyBusinessUnitId: 'contact.trustpilot_business_unit_id',
    }),
  excerptLength: z.number().int().min(20).max(2_000).default(280),
  note: z
    .strictObject({
      enabled: z.boolean().default(true),
      template: z
        .string()
        .min(1)
        .max(10_000)
        .default('Trustpilot review: {{stars}}★ "{{title}}"\n\n{{text}}\n\nBy {{consumerName}} on {{date}}\n{{reviewUrl}}{{companyReplyLine}}'),
    })
    .default({
      enabled: true,
      template: 'Trustpilot review: {{stars}}★ "{{title}}"\n\n{{text}}\n\nBy {{consumerName}} on {{date}}\n{{reviewUrl}}{{companyReplyLine}}',
    }),
  tags: z
    .strictObject({
      reviewer: Tag.nullable().default('trustpilot-reviewer').describe('Added to every contact with a review'),
      byStars: z
        .strictObject({ '1': Tag.nullable(), '2': Tag.nullable(), '3': Tag.nullable(), '4': Tag.nullable(), '5': Tag.nullable() })
        .default({ '1': 'trustpilot-detractor', '2': 'trustpilot-detractor', '3': 'trustpilot-passive', '4': 'trustpilot-promoter', '5': 'trustpilot-promoter' })
        .describe('One tag per star rating; the bridge removes the others of this set when the rating changes'),
    })
    .default({
      reviewer: 'trustpilot-reviewer',
      byStars: { '1': 'trustpilot-detractor', '2': 'trustpilot-detractor', '3': 'trustpilot-passive', '4': 'trustpilot-promoter', '5': 'trustpilot-promoter' },
    }),
  followUps: z
    .array(FollowUpRuleSchema)
    .default([
      {
        id: 'low-rating',
        when: { minStars: 1, maxStars: 2 },
        title: 'Call back about a {{stars}}★ Trustpilot review',
        body: '{{excerpt}}\n\n{{reviewUrl}}',
        dueInBusinessDays: 1,
        assignTo: 'contact-owner',
        resolvedWhen: { companyReplied: true, minStars: 4 },
      },
    ]),
});
export type TrustpilotMapping = z.infer<typeof TrustpilotMappingSchema>;

/** Conditions on a response; every condition given must hold. */
export const ResponseConditionSchema = z
  .strictObject({
    itemIds: z.array(z.string()).optional().describe('Only responses to these items'),
    minScore: z.number().optional(),
    maxScore: z.number().optional(),
    answered: z
      .strictObject({ question: z.string().min(1).describe('Question title or id'), answer: z.string().min(1).describe('One of the selected answers (case-insensitive)') })
      .optional(),
  })
  .default({});
export type ResponseCondition = z.infer<typeof ResponseConditionSchema>;

const ResponseFollowUpSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/).describe('Stable id: one task per response and rule'),
  when: ResponseConditionSchema,
  title: z.string().min(1).max(200).describe('Template: {{itemTitle}}, {{result}}, {{score}}, {{contactName}}'),
  body: z.string().max(5_000).default('{{answers}}'),
  dueInBusinessDays: z.number().int().min(0).max(60).default(1).describe('Counted from the response date'),
  assignTo: z.union([z.literal('contact-owner'), z.literal('nobody'), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)]).default('contact-owner'),
});
export type ResponseFollowUp = z.infer<typeof ResponseFollowUpSchema>;

const OS_FIELDS_DEFAULT = {
  lastItemTitle: 'contact.opinionstage_last_item',
  lastResult: 'contact.opinionstage_last_result',
  lastScore: 'contact.opinionstage_last_score',
  lastResponseDate: 'contact.opinionstage_last_response_date',
  surveyLink: 'contact.opinionstage_survey_link',
};
const OS_NOTE_TEMPLATE = 'Opinion Stage response to "{{itemTitle}}" on {{date}}\nResult: {{result}}{{scoreLine}}\n\n{{answers}}';

export const OpinionStageMappingSchema = z.strictObject({
  fields: z
    .strictObject({
      lastItemTitle: FieldKey.default(OS_FIELDS_DEFAULT.lastItemTitle),
      lastResult: FieldKey.default(OS_FIELDS_DEFAULT.lastResult),
      lastScore: FieldKey.default(OS_FIELDS_DEFAULT.lastScore),
      lastResponseDate: FieldKey.default(OS_FIELDS_DEFAULT.lastResponseDate),
      surveyLink: FieldKey.default(OS_FIELDS_DEFAULT.surveyLink).describe('Receives the personal survey link built from OPINIONSTAGE_SURVEY_URL'),
    })
    .default(OS_FIELDS_DEFAULT),
  note: z
    .strictObject({ enabled: z.boolean().default(true), template: z.string().min(1).max(10_000).default(OS_NOTE_TEMPLATE) })
    .default({ enabled: true, template: OS_NOTE_TEMPLATE }),
  tags: z
    .array(z.strictObject({ when: ResponseConditionSchema, add: z.array(Tag).min(1) }))
    .default([{ when: {}, add: ['opinionstage-respondent'] }])
    .describe('Tags added when a response matches'),
  followUps: z
    .array(ResponseFollowUpSchema)
    .default([
      {
        id: 'low-score',
        when: { maxScore: 4 },
        title: 'Follow up: score {{score}} in "{{itemTitle}}"',
        body: '{{answers}}',
        dueInBusinessDays: 1,
        assignTo: 'contact-owner',
      },
    ]),
});
export type OpinionStageMapping = z.infer<typeof OpinionStageMappingSchema>;

export const MappingSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).default(1),
    trustpilot: TrustpilotMappingSchema.default(TrustpilotMappingSchema.parse({})),
    opinionStage: OpinionStageMappingSchema.default(OpinionStageMappingSchema.parse({})),
  })
  .meta({ id: 'Mapping', title: 'ghl-bridge mapping file', description: 'Field mapping and rules (MAPPING_FILE)' });
export type Mapping = z.infer<typeof MappingSchema>;

export class MappingError extends BridgeError<'MAPPING_INVALID'> {
  constructor(readonly problems: string[]) {
    super('MAPPING_INVALID', `MAPPING_FILE is invalid:\n${problems.join('\n')}`, { permanent: true });
  }
}

export const DEFAULT_MAPPING: Mapping = MappingSchema.parse({});

export function parseMapping(value: unknown): Mapping {
  const parsed = MappingSchema.safeParse(value);
  if (!parsed.success) {
    throw new MappingError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return parsed.data;
}

/** Reads MAPPING_FILE once at start-up; no file means the defaults. */
export function loadMapping(path: string | undefined): Mapping {
  if (path === undefined) return DEFAULT_MAPPING;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MappingError([`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MappingError([`not valid JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  return parseMapping(json);
}

/** Every custom field key the mapping writes to, for setup-fields and doctor. */
export function mappedFieldKeys(mapping: Mapping): string[] {
  return [...Object.values(mapping.trustpilot.fields), ...Object.values(mapping.opinionStage.fields)].filter((key): key is string => key !== null);
}

/** The JSON Schema of the mapping file, checked in under openapi/. */
export function mappingJsonSchema(): unknown {
  return z.toJSONSchema(MappingSchema, { io: 'input', target: 'draft-2020-12' });
}
