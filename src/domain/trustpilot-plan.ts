/**
 * Trustpilot → GHL planner. Pure: (contact, Trustpilot facts, ledger, mapping) → writes. Only what
 * differs from GHL's current state is written, so an unchanged contact costs no write, and running
 * the plan twice (after a retry or a crash) leaves the same end state.
 */
import type { FollowUpRule, TrustpilotMapping } from '../config/mapping.js';
import { addBusinessDays } from './business-days.js';
import { bodyHash, sameFieldValue, type ContactSnapshot, type FieldValue, type LedgerView, type Plan, type PlannedField, type PlannedWrite } from './plan.js';
import { excerpt, renderTemplate } from './template.js';

/** The contact's own review of our business, as the planner needs it. */
export interface ReviewFacts {
  id: string;
  stars: number;
  title: string;
  text: string;
  createdAt: string;
  updatedAt?: string;
  consumerId?: string;
  consumerName?: string;
  consumerReviewCount?: number;
  companyReply?: string;
  url: string;
}

/** The TrustScore of the contact's company. */
export interface CompanyFacts {
  businessUnitId: string;
  trustScore: number;
  stars: number;
  totalReviews: number;
}

export interface TrustpilotPlanInput {
  contact: ContactSnapshot;
  /** undefined: not looked up (no credentials, or disabled); null: looked up, none found. */
  review: ReviewFacts | null | undefined;
  company: CompanyFacts | null | undefined;
  /** Mapping field key → GHL custom field id, for the fields that exist in the location. */
  fieldIds: Record<string, string>;
  ledger: LedgerView;
  mapping: TrustpilotMapping;
}

export const reviewNoteKey = (reviewId: string) => `tp-review:${reviewId}`;
export const reviewTaskKey = (reviewId: string, ruleId: string) => `tp-review:${reviewId}:${ruleId}`;

export function planTrustpilot(input: TrustpilotPlanInput): Plan {
  const writes: PlannedWrite[] = [];
  const warnings: string[] = [];
  const fields = desiredFields(input);
  const changed: PlannedField[] = [];
  for (const [key, value] of fields) {
    const id = input.fieldIds[key];
    if (id === undefined) {
      warnings.push(`custom field ${key} does not exist in location ${input.contact.locationId}; run setup-fields`);
      continue;
    }
    const current = input.contact.customFields.find((field) => field.id === id)?.value;
    if (!sameFieldValue(current, value)) changed.push({ key, id, value });
  }
  if (changed.length > 0) writes.push({ kind: 'set-fields', fields: changed, reason: `Trustpilot data changed: ${changed.map((field) => field.key).join(', ')}` });

  const review = input.review;
  if (review) {
    writes.push(...planNote(input, review), ...planTags(input, review), ...planFollowUps(input, review));
  }
  return { writes, warnings };
}

function desiredFields(input: TrustpilotPlanInput): [string, FieldValue][] {
  const map = input.mapping.fields;
  const pairs: [string | null, FieldValue | undefined][] = [];
  const review = input.review;
  if (review) {
    pairs.push(
      [map.reviewId, review.id],
      [map.reviewStars, review.stars],
      [map.reviewTitle, review.title],
      [map.reviewExcerpt, excerpt(review.text, input.mapping.excerptLength)],
      [map.reviewDate, isoDate(review.updatedAt ?? review.createdAt)],
      [map.reviewUrl, review.url],
      [map.consumerId, review.consumerId],
      [map.consumerReviewCount, review.consumerReviewCount],
    );
  }
  const company = input.company;
  if (company) {
    pairs.push(
      [map.companyTrustScore, company.trustScore],
      [map.companyStars, company.stars],
      [map.companyReviewCount, company.totalReviews],
      [map.companyBusinessUnitId, company.businessUnitId],
    );
  }
  return pairs.filter((pair): pair is [string, FieldValue] => pair[0] !== null && pair[1] !== undefined && pair[1] !== '');
}

function planNote(input: TrustpilotPlanInput, review: ReviewFacts): PlannedWrite[] {
  if (!input.mapping.note.enabled) return [];
  const sourceKey = reviewNoteKey(review.id);
  const body = renderTemplate(input.mapping.note.template, templateValues(input, review));
  const known = input.ledger.notes[sourceKey];
  if (!known) return [{ kind: 'create-note', sourceKey, body, reason: `new ${review.stars}★ review ${review.id}` }];
  if (known.bodyHash !== bodyHash(body)) return [{ kind: 'update-note', sourceKey, noteId: known.noteId, body, reason: `review ${review.id} changed` }];
  return [];
}

function planTags(input: TrustpilotPlanInput, review: ReviewFacts): PlannedWrite[] {
  const rules = input.mapping.tags;
  const byStars = Object.values(rules.byStars).filter((tag): tag is string => tag !== null);
  const starTag = rules.byStars[String(review.stars) as keyof typeof rules.byStars] ?? null;
  const wanted = [rules.reviewer, starTag].filter((tag): tag is string => tag !== null);
  const have = new Set(input.contact.tags.map((tag) => tag.toLowerCase()));
  const add = [...new Set(wanted)].filter((tag) => !have.has(tag.toLowerCase()));
  const remove = [...new Set(byStars)].filter((tag) => !wanted.includes(tag) && have.has(tag.toLowerCase()));
  const writes: PlannedWrite[] = [];
  if (add.length > 0) writes.push({ kind: 'add-tags', tags: add, reason: `${review.stars}★ review` });
  if (remove.length > 0) writes.push({ kind: 'remove-tags', tags: remove, reason: `rating is now ${review.stars}★` });
  return writes;
}

function planFollowUps(input: TrustpilotPlanInput, review: ReviewFacts): PlannedWrite[] {
  const writes: PlannedWrite[] = [];
  for (const rule of input.mapping.followUps) {
    const sourceKey = reviewTaskKey(review.id, rule.id);
    const known = input.ledger.tasks[sourceKey];
    const resolved = isResolved(rule, review);
    const dueDate = addBusinessDays(new Date(review.updatedAt ?? review.createdAt), rule.dueInBusinessDays).toISOString();
    if (!known) {
      // A task is opened once per review and rule; never for feedback already resolved.
      if (matches(rule, review) && !resolved) {
        const assignedTo = assignee(rule, input.contact);
        writes.push({
          kind: 'create-task',
          sourceKey,
          title: renderTemplate(rule.title, templateValues(input, review)).slice(0, 200),
          body: renderTemplate(rule.body, templateValues(input, review)),
          dueDate,
          ...(assignedTo ? { assignedTo } : {}),
          reason: `${review.stars}★ review matches follow-up rule ${rule.id}`,
        });
      }
      continue;
    }
    // Completed or deleted by anyone: recorded, never reopened or recreated.
    if (known.status !== 'open') continue;
    if (resolved) {
      writes.push({ kind: 'complete-task', sourceKey, taskId: known.taskId, reason: review.companyReply ? 'the company replied to the review' : `the review is now ${review.stars}★` });
    } else if (known.dueDate !== dueDate) {
      writes.push({ kind: 'update-task', sourceKey, taskId: known.taskId, dueDate, reason: `review ${review.id} was updated` });
    }
  }
  return writes;
}

function matches(rule: FollowUpRule, review: ReviewFacts): boolean {
  return review.stars >= rule.when.minStars && review.stars <= rule.when.maxStars;
}

function isResolved(rule: FollowUpRule, review: ReviewFacts): boolean {
  if (rule.resolvedWhen.companyReplied && review.companyReply) return true;
  return rule.resolvedWhen.minStars !== null && review.stars >= rule.resolvedWhen.minStars;
}

function assignee(rule: FollowUpRule, contact: ContactSnapshot): string | undefined {
  if (rule.assignTo === 'nobody') return undefined;
  if (rule.assignTo === 'contact-owner') return contact.assignedTo;
  return rule.assignTo;
}

function templateValues(input: TrustpilotPlanInput, review: ReviewFacts): Record<string, string | number | undefined> {
  const contact = input.contact;
  return {
    stars: review.stars,
    title: review.title,
    text: review.text,
    excerpt: excerpt(review.text, input.mapping.excerptLength),
    consumerName: review.consumerName ?? 'a Trustpilot user',
    contactName: contact.name ?? ([contact.firstName, contact.lastName].filter(Boolean).join(' ') || contact.email),
    date: isoDate(review.updatedAt ?? review.createdAt),
    reviewUrl: review.url,
    companyReply: review.companyReply,
    companyReplyLine: review.companyReply ? `\n\nOur reply: ${review.companyReply}` : '',
  };
}

function isoDate(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value.slice(0, 10) : date.toISOString().slice(0, 10);
}
