/**
 * One Opinion Stage response → GHL: find who answered (the contact id from a personal link, else the
 * lead-form email or phone), upsert that contact (never a duplicate), then one note with the answers,
 * the "last response" fields, tags and follow-up tasks. A response nobody can be matched to completes
 * as skipped with its reason: retrying would not find an identity that is not there. The location is
 * the response's own (personal link, item map, connection, or the only one served); a response whose
 * location cannot be told fails for good, imports nothing, and so reaches the dead letters and one alert.
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
import { findRespondent, linkLocationId, type Respondent } from '../domain/opinionstage-answers.js';
import { toSnapshot } from '../domain/contact-snapshot.js';
import { routeOpinionStageResponse } from '../domain/location-routing.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { OpinionStageResponseJobSchema } from '../queue/catalog.js';
import type { CustomFieldIds } from '../state/custom-field-ids.js';
import type { LookupCache } from '../state/lookup-cache.js';
import type { WriteLedger } from '../state/write-ledger.js';
import { applyPlan, type ApplyDeps, type GhlWriter } from './apply-plan.js';
import { PermanentJobError } from './classify-error.js';

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
  /** The served locations, for routing each response to its own (src/domain/location-routing.ts). */
  servedLocations(): Promise<readonly string[]>;
  /** OPINIONSTAGE_ITEM_LOCATIONS: item id → location id. */
  itemLocations: ReadonlyMap<string, string>;
  /** Items of per-location Opinion Stage connections: item id → location id. */
  connectionItemLocations(): Promise<ReadonlyMap<string, string>>;
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
/** The error code of a response whose location cannot be told (dead-lettered with one alert). */
export const OPINIONSTAGE_LOCATION_UNKNOWN = 'OPINIONSTAGE_LOCATION_UNKNOWN';
const ItemTitlesSchema = z.record(z.string(), z.string());

export function createOpinionStageResponseProcessor(deps: OpinionStageResponseDeps) {
  return async (job: Job): Promise<OpinionStageResponseOutcome> => {
    const data = OpinionStageResponseJobSchema.parse(job.data);
    const response = OsResponseSchema.parse(data.response);
    // Routed first: a response with no location of its own costs no further call.
    const locationId = await locationOf(deps, data.itemId, linkLocationId(response), data.webhookLocationId);
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

/**
 * The response's own location, or a permanent failure naming why there is none: guessing would write
 * one client's respondent into another client's CRM, so the response is dead-lettered instead.
 */
async function locationOf(
  deps: OpinionStageResponseDeps,
  itemId: string | undefined,
  personalLinkLocationId: string | undefined,
  webhookLocationId: string | undefined,
): Promise<string> {
  const route = routeOpinionStageResponse({
    personalLinkLocationId,
    webhookLocationId,
    itemId: itemId ?? '(unknown)',
    itemLocations: deps.itemLocations,
    connectionItemLocations: await deps.connectionItemLocations(),
    servedLocations: await deps.servedLocations(),
  });
  if ('reason' in route) {
    deps.logger.warn({ itemId, reason: route.reason }, 'opinion stage response has no location, not imported');
    throw new PermanentJobError(OPINIONSTAGE_LOCATION_UNKNOWN, route.reason);
  }
  return route.locationId;
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
  deps.metrics.skipped.inc({ queue: 'opinionstage-responses', reason: 'no-identity' });
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
