/**
 * One Opinion Stage response → GHL: find who answered (the contact id from a personal link, else the
 * lead-form email or phone), upsert that contact (never a duplicate), then one note with the answers,
 * the "last response" fields, tags and follow-up tasks. A response nobody can be matched to completes
 * as skipped with its reason: retrying would not find an identity that is not there.
 */
import type { Job } from 'bullmq';
import { z } from 'zod';
import type { GhlClient } from '../clients/ghl/ghl-client.js';
import type { Contact } from '../clients/ghl/schemas.js';
import { isGhlNotFound } from '../clients/ghl/ghl-api-error.js';
import { UpstreamError } from '../clients/http/upstream-error.js';
import type { OpinionStageClient } from '../clients/opinionstage/opinionstage-client.js';
import { mappedFieldKeys, type Mapping } from '../config/mapping.js';
import { planOpinionStage } from '../domain/opinionstage-plan.js';
import { OsQuestionSchema, OsResponseSchema, type OsQuestion } from '../clients/opinionstage/schemas.js';
import { findRespondent, type Respondent } from '../domain/opinionstage-answers.js';
import { toSnapshot } from '../domain/contact-snapshot.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { OpinionStageResponseJobSchema } from '../queue/catalog.js';
import type { CustomFieldIds } from '../state/custom-field-ids.js';
import type { LookupCache } from '../state/lookup-cache.js';
import type { WriteLedger } from '../state/write-ledger.js';
import { applyPlan, type ApplyDeps, type GhlWriter } from './apply-plan.js';

export interface OpinionStageResponseDeps {
  /** Absent without OPINIONSTAGE_API_KEY: question titles and item titles are then unknown. */
  client: Pick<OpinionStageClient, 'listQuestions' | 'listAllItems'> | undefined;
  /** The location's own Opinion Stage client (its own connection), else `client`. */
  clientFor?(locationId: string): Promise<Pick<OpinionStageClient, 'listQuestions' | 'listAllItems'> | undefined>;
  ghl: GhlWriter & Pick<GhlClient, 'getContact' | 'upsertContact'>;
  cache: LookupCache;
  fieldIds: CustomFieldIds;
  ledger: WriteLedger;
  mapping: Mapping;
  /** The location responses are written to (private-token mode serves one). */
  locationId(): Promise<string | undefined>;
  apply: Omit<ApplyDeps, 'ghl' | 'ledger' | 'logger'>;
  metrics: Metrics;
  logger: Logger;
}

export type OpinionStageResponseOutcome =
  | { outcome: 'synced'; contactId: string; contactCreated: boolean; writes: number }
  | { outcome: 'skipped'; reason: string };

const METADATA_TTL_MS = 3_600_000;
/** Stands in for the contact an upsert would create, in dry run. */
const DRY_RUN_CONTACT_ID = 'dry-run-new-contact';
const QuestionsSchema = z.array(OsQuestionSchema);
export const QUESTION_LABELS_MISSING = 'question labels unavailable';
const ItemTitlesSchema = z.record(z.string(), z.string());

export function createOpinionStageResponseProcessor(deps: OpinionStageResponseDeps) {
  return async (job: Job): Promise<OpinionStageResponseOutcome> => {
    const data = OpinionStageResponseJobSchema.parse(job.data);
    const response = OsResponseSchema.parse(data.response);
    const locationId = await deps.locationId();
    if (!locationId) return skipped(deps, 'no GHL location is served');
    const sources = deps.clientFor ? { ...deps, client: await deps.clientFor(locationId) } : deps;

    const { questions, missing } = data.itemId ? await questionsOf(sources, data.itemId) : { questions: [], missing: [] };
    const respondent = findRespondent(response, questions, data.flat);
    const found = await contactFor(deps, locationId, respondent);
    if (!found) return skipped(deps, 'the response carries no email, phone or contact id to match a contact');

    const fieldIds = await deps.fieldIds.resolve(locationId, mappedFieldKeys(deps.mapping));
    const plan = planOpinionStage({
      contact: toSnapshot(found.contact, locationId),
      response,
      itemId: data.itemId,
      itemTitle: data.itemId ? await itemTitle(sources, data.itemId) : '',
      questions,
      fieldIds,
      ledger: await deps.ledger.view(locationId, found.contact.id),
      mapping: deps.mapping.opinionStage,
      receivedAt: new Date(data.receivedAt).toISOString(),
      missing,
    });
    for (const warning of new Set(plan.warnings)) deps.logger.warn({ locationId, contactId: found.contact.id, warning }, 'opinion stage warning');
    const result = await applyPlan({ ...deps.apply, ghl: deps.ghl, ledger: deps.ledger, logger: deps.logger }, { locationId, contactId: found.contact.id }, plan);
    return { outcome: 'synced', contactId: found.contact.id, contactCreated: found.created, writes: result.writes };
  };
}

async function contactFor(deps: OpinionStageResponseDeps, locationId: string, respondent: Respondent): Promise<{ contact: Contact; created: boolean } | undefined> {
  if (respondent.contactId) {
    try {
      return { contact: await deps.ghl.getContact(locationId, respondent.contactId), created: false };
    } catch (error) {
      // A link id that is not (or no longer) a contact here: fall back to the answers.
      if (!(isGhlNotFound(error) || (error instanceof UpstreamError && (error.status === 400 || error.status === 403)))) throw error;
      deps.logger.info({ locationId }, 'personal-link contact id not found, matching by email or phone');
    }
  }
  if (!respondent.email && !respondent.phone) return undefined;
  if (deps.apply.dryRun) {
    // Upserting is a write; in dry run record it and plan against an empty contact.
    await deps.apply.planned.record([
      {
        at: new Date().toISOString(),
        locationId,
        contactId: '(new)',
        system: 'ghl',
        method: 'POST',
        path: '/contacts/upsert',
        body: upsertBody(respondent),
        reason: 'Opinion Stage respondent',
      },
    ]);
    return { contact: { id: DRY_RUN_CONTACT_ID }, created: true };
  }
  const { contact, created } = await deps.ghl.upsertContact(locationId, upsertBody(respondent));
  return { contact, created };
}

/**
 * The item's questions. A 404 for them (an item deleted, or one the key cannot see) loses the
 * labels only: the answers and the flat identity fields are still imported, and the note says so.
 */
async function questionsOf(deps: OpinionStageResponseDeps, itemId: string): Promise<{ questions: OsQuestion[]; missing: string[] }> {
  if (!deps.client) return { questions: [], missing: [] };
  const cached = await deps.cache.get('os-questions', itemId, QuestionsSchema);
  if (cached.hit && cached.value) return { questions: cached.value, missing: [] };
  let questions: OsQuestion[];
  try {
    questions = await deps.client.listQuestions(itemId);
  } catch (error) {
    if (!(error instanceof UpstreamError && error.status === 404)) throw error;
    deps.logger.warn({ itemId, status: error.status }, 'opinion stage questions not found, importing the answers without labels');
    return { questions: [], missing: [QUESTION_LABELS_MISSING] };
  }
  await deps.cache.set('os-questions', itemId, questions, METADATA_TTL_MS);
  return { questions, missing: [] };
}

async function itemTitle(deps: OpinionStageResponseDeps, itemId: string): Promise<string> {
  if (!deps.client) return '';
  const cached = await deps.cache.get('os-item-titles', 'all', ItemTitlesSchema);
  if (cached.hit && cached.value?.[itemId] !== undefined) return cached.value[itemId] ?? '';
  const titles = Object.fromEntries((await deps.client.listAllItems()).map((item) => [item.id, item.attributes?.title ?? '']));
  await deps.cache.set('os-item-titles', 'all', titles, METADATA_TTL_MS);
  return titles[itemId] ?? '';
}

function skipped(deps: OpinionStageResponseDeps, reason: string): OpinionStageResponseOutcome {
  deps.metrics.skipped.inc({ queue: 'opinionstage-responses', reason: reason.startsWith('the response carries') ? 'no-identity' : 'no-location' });
  deps.logger.warn({ reason }, 'opinion stage response skipped');
  return { outcome: 'skipped', reason };
}

function upsertBody(respondent: Respondent) {
  return {
    ...(respondent.email ? { email: respondent.email } : {}),
    ...(respondent.phone ? { phone: respondent.phone } : {}),
    ...(respondent.firstName ? { firstName: respondent.firstName } : {}),
    ...(respondent.lastName ? { lastName: respondent.lastName } : {}),
    source: 'Opinion Stage',
  };
}
