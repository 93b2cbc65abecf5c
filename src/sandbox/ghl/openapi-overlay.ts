/**
 * Where GHL's official OpenAPI documents (openapi/upstream/ghl/) say less than GHL demonstrably does.
 * Each entry is one deviation with its reason; nothing here loosens what the documents describe
 * beyond what GHL was seen (or documents elsewhere) to accept.
 */
import { ACCEPTED_VERSIONS } from './auth.js';
import type { JsonObject, SchemaOverlay } from './openapi-documents.js';

/**
 * `Version` header values. Every operation declares `enum: ["2021-07-28"]`, but the live API accepts
 * each published version (2021-04-15, 2021-07-28, 2023-02-21 and, since June 2026, v3) and refuses
 * anything else with a 400; a missing header is a 401 (both measured; auth.ts answers them).
 */
export const VERSION_HEADER_SCHEMA: JsonObject = { type: 'string', enum: [...ACCEPTED_VERSIONS] };

/** The search operators GHL's advanced-search guide documents; a bare `gt`/`gte`/`lt`/`lte` is not one. */
export const SEARCH_OPERATORS = ['eq', 'not_eq', 'contains', 'not_contains', 'exists', 'not_exists', 'range'] as const;

/** The bounds a `range` filter's value object may carry. */
export const RANGE_BOUNDS = ['gt', 'gte', 'lt', 'lte'] as const;

/** Page size limit of POST /contacts/search. */
export const SEARCH_MAX_PAGE_LIMIT = 500;

const scalar: JsonObject = { type: ['string', 'number'] };

/**
 * POST /contacts/search (`search-contacts-advanced`): the document's `SearchBodyV2DTO` is an empty
 * object and links to GHL's advanced-search guide for the body. This is that guide's body, closed
 * like every GHL DTO: `locationId`, `page` + `pageLimit` (at most 500) or `searchAfter` (the sort
 * values a previous page's last contact carried), `query`, `filters` (field filters, or `{ group:
 * AND|OR, filters }`), `sort` (`{ field, direction }`). A `range` filter's value is an object of
 * bounds, e.g. `{ gte, lte }`.
 */
export const SEARCH_BODY_SCHEMA: JsonObject = {
  type: 'object',
  additionalProperties: false,
  required: ['locationId'],
  properties: {
    locationId: { type: 'string', minLength: 1 },
    page: { type: 'integer', minimum: 1 },
    pageLimit: { type: 'integer', minimum: 1, maximum: SEARCH_MAX_PAGE_LIMIT },
    searchAfter: { type: 'array', items: scalar },
    query: { type: 'string' },
    filters: { type: 'array', items: { $ref: '#/definitions/filter' } },
    sort: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['field'],
        properties: { field: { type: 'string', minLength: 1 }, direction: { type: 'string', enum: ['asc', 'desc'] } },
      },
    },
  },
  definitions: {
    filter: {
      if: { type: 'object', required: ['group'] },
      then: { $ref: '#/definitions/group' },
      else: { $ref: '#/definitions/field' },
    },
    group: {
      type: 'object',
      additionalProperties: false,
      required: ['group', 'filters'],
      properties: {
        group: { type: 'string', enum: ['AND', 'OR'] },
        filters: { type: 'array', items: { $ref: '#/definitions/filter' } },
      },
    },
    field: {
      type: 'object',
      additionalProperties: false,
      required: ['field', 'operator'],
      properties: {
        field: { type: 'string', minLength: 1 },
        operator: { type: 'string', enum: [...SEARCH_OPERATORS] },
        value: {},
      },
      if: { properties: { operator: { const: 'range' } } },
      then: {
        required: ['value'],
        properties: {
          value: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: Object.fromEntries(RANGE_BOUNDS.map((bound) => [bound, scalar])),
          },
        },
      },
    },
  },
};

/** Request-body schemas that replace a document's, by operationId. */
export const BODY_OVERLAY: Readonly<Record<string, JsonObject>> = {
  'search-contacts-advanced': SEARCH_BODY_SCHEMA,
};

/**
 * One custom-field write, `{ id, key?, field_value }` as documented, plus `fieldValue`: the name the
 * v3 documents prefer, which GHL was reported to accept with Version 2021-07-28 too.
 */
function customFieldWrite(value: JsonObject): JsonObject {
  return {
    type: 'object',
    properties: { id: { type: 'string' }, key: { type: 'string' }, field_value: value, fieldValue: value },
    required: ['id'],
  };
}

const text: JsonObject = { type: 'string' };
const texts: JsonObject = { type: 'array', items: { type: 'string' } };
// Numeric and Monetory: the documents type `field_value` as `object` while their own examples are
// `100` and `100.5`; GHL reads these fields back as numbers and takes numbers.
const number: JsonObject = { type: 'number' };
const file: JsonObject = { type: 'object' };

/**
 * `dateOfBirth` on contact writes: typed `object` while its description lists string formats
 * ("YYYY-MM-DD", "MM/DD/YYYY", …) and its example is "1990-09-25"; GHL takes those strings.
 */
const birthDate: JsonObject = { type: 'string', nullable: true };

const schemas = 'apps/contacts.json#/components/schemas';

/** Schemas replaced in the documents as they are read, keyed by `<document>#<JSON pointer>`. */
export const SCHEMA_OVERLAY: SchemaOverlay = {
  [`${schemas}/TextField`]: customFieldWrite(text),
  [`${schemas}/LargeTextField`]: customFieldWrite(text),
  [`${schemas}/SingleSelectField`]: customFieldWrite(text),
  [`${schemas}/RadioField`]: customFieldWrite(text),
  [`${schemas}/NumericField`]: customFieldWrite(number),
  [`${schemas}/MonetoryField`]: customFieldWrite(number),
  [`${schemas}/CheckboxField`]: customFieldWrite(texts),
  [`${schemas}/MultiSelectField`]: customFieldWrite(texts),
  [`${schemas}/FileField`]: customFieldWrite(file),
  [`${schemas}/CreateContactDto/properties/dateOfBirth`]: birthDate,
  [`${schemas}/UpdateContactDto/properties/dateOfBirth`]: birthDate,
  [`${schemas}/UpsertContactDto/properties/dateOfBirth`]: birthDate,
};
