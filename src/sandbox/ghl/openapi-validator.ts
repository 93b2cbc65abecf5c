/**
 * Checks a request against GHL's official OpenAPI documents (openapi-documents.ts) plus the overlay
 * (openapi-overlay.ts), with Ajv: the method and path must be a documented operation, the declared
 * headers present, the query and the body valid and closed. Problems are worded like GHL's
 * class-validator messages ("property x should not exist", "limit must be a number ...").
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { defaultDocumentsDir, loadGhlOperations, type JsonObject, type SpecOperation, type SpecParameter } from './openapi-documents.js';
import { BODY_OVERLAY, SCHEMA_OVERLAY, VERSION_HEADER_SCHEMA } from './openapi-overlay.js';
import { TYPE_PHRASES } from './validation.js';

export interface DocumentedOperation {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  /** Problems with the declared headers (missing Version or Authorization, an unknown Version). */
  checkHeaders(headers: Record<string, string | string[] | undefined>): string[];
  /** Problems with the query string and the (parsed) body; `contentType` without parameters. */
  checkInput(query: Record<string, string>, contentType: string | undefined, body: unknown): string[];
}

export interface GhlRequestValidator {
  /** The documented operation for this method and path (query string excluded), if any. */
  match(method: string, path: string): DocumentedOperation | undefined;
}

// ajv-formats is CommonJS with a default export; under NodeNext its namespace is what gets imported.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function newAjv(coerceTypes: boolean): Ajv {
  // strict off: the documents carry OpenAPI metadata keywords (description, deprecated, …) Ajv does not know.
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes, verbose: true });
  addFormats(ajv);
  return ajv;
}

const jsonAjv = newAjv(false);
// Query strings and forms carry only text: "20" is a valid number, as NestJS's transform makes it.
const textAjv = newAjv(true);

function nameOf(prefix: string, error: ErrorObject): string {
  const parts = error.instancePath.split('/').filter((part) => part !== '');
  const joined = parts.join('.');
  return prefix === '' ? joined || 'body' : [prefix, joined].filter((part) => part !== '').join('.');
}

/** class-validator's wording for a type ("must be a string"); a nullable type reads as its first. */
function typePhrase(type: unknown): string | undefined {
  const first = Array.isArray(type) ? type[0] : typeof type === 'string' ? type.split(',')[0] : undefined;
  return typeof first === 'string' ? TYPE_PHRASES[first === 'integer' ? 'int' : first] : undefined;
}

function describe(error: ErrorObject, prefix: string): string | string[] | undefined {
  const name = nameOf(prefix, error);
  const params: Record<string, unknown> = error.params;
  const under = name === 'body' || name === '' ? '' : `${name}.`;
  switch (error.keyword) {
    case 'additionalProperties':
      return `property ${under}${String(params.additionalProperty)} should not exist`;
    case 'required': {
      // class-validator reports a missing property both as empty and as not of its declared type.
      const missing = `${under}${String(params.missingProperty)}`;
      const declared: unknown = Reflect.get(Reflect.get(Object(error.parentSchema), 'properties') ?? {}, String(params.missingProperty));
      const phrase = typePhrase(Reflect.get(Object(declared), 'type'));
      return phrase === undefined ? [`${missing} should not be empty`] : [`${missing} should not be empty`, `${missing} ${phrase}`];
    }
    case 'type':
      return `${name} ${typePhrase(params.type) ?? `must be a ${String(params.type)}`}`;
    case 'enum':
      return `${name} must be one of the following values: ${(Array.isArray(params.allowedValues) ? params.allowedValues : []).map(String).join(', ')}`;
    case 'maximum':
      return `${name} must not be greater than ${String(params.limit)}`;
    case 'minimum':
      return `${name} must not be less than ${String(params.limit)}`;
    case 'minLength':
    case 'minProperties':
      return `${name} should not be empty`;
    case 'format':
      return `${name} must be a valid ${String(params.format)}`;
    case 'if':
      return undefined; // the failing branch reports its own errors
    case 'anyOf':
      return `${name} does not match any documented shape`;
    default:
      return `${name} ${error.message ?? 'is invalid'}`;
  }
}

/** Errors inside an anyOf's branches say little; the anyOf's own error says it all. */
function messages(errors: ErrorObject[] | null | undefined, prefix: string): string[] {
  const list = errors ?? [];
  const anyOfPaths = list.filter((error) => error.keyword === 'anyOf').map((error) => error.schemaPath.replace(/\/anyOf$/, '/anyOf/'));
  const kept = list.filter((error) => error.keyword === 'anyOf' || !anyOfPaths.some((path) => error.schemaPath.startsWith(path)));
  return [...new Set(kept.flatMap((error) => describe(error, prefix) ?? []))];
}

function objectSchema(parameters: SpecParameter[]): JsonObject {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(parameters.map((param) => [param.name, param.schema])),
    required: parameters.filter((param) => param.required).map((param) => param.name),
  };
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function compileOperation(op: SpecOperation): DocumentedOperation {
  const headers = op.parameters
    .filter((param) => param.in === 'header')
    .map((param) => (param.name.toLowerCase() === 'version' ? { ...param, schema: VERSION_HEADER_SCHEMA } : param));
  const headerChecks = headers.map((param) => ({ param, validate: jsonAjv.compile(param.schema) }));
  const query = textAjv.compile(objectSchema(op.parameters.filter((param) => param.in === 'query')));
  const bodies = new Map<string, ValidateFunction>();
  const overlay = BODY_OVERLAY[op.operationId];
  for (const [mediaType, schema] of Object.entries(op.body?.content ?? {})) {
    const ajv = mediaType === 'application/json' ? jsonAjv : textAjv;
    bodies.set(mediaType, ajv.compile(overlay ?? schema));
  }

  return {
    operationId: op.operationId,
    method: op.method,
    path: op.path,
    checkHeaders(given) {
      const problems: string[] = [];
      if (op.secured && headerValue(given, 'authorization') === undefined) problems.push('Authorization header is missing');
      for (const { param, validate } of headerChecks) {
        const value = headerValue(given, param.name);
        if (value === undefined) {
          if (param.required) problems.push(`${param.name} header is missing`);
        } else if (!validate(value)) {
          problems.push(...messages(validate.errors, param.name));
        }
      }
      return problems;
    },
    checkInput(givenQuery, contentType, body) {
      const problems: string[] = [];
      // Coercion rewrites values in place: check a copy.
      if (!query({ ...givenQuery })) problems.push(...messages(query.errors, '').map((text) => text.replace(/^body\b/, 'query')));
      const hasBody = body !== undefined && body !== null;
      if (op.body === undefined) {
        if (hasBody && !(typeof body === 'object' && Object.keys(body).length === 0)) problems.push('this operation takes no body');
        return problems;
      }
      if (!hasBody && !op.body.required) return problems;
      const validate = bodies.get(contentType ?? 'application/json');
      if (validate === undefined) {
        problems.push(`content type ${contentType ?? '(none)'} is not documented; use ${[...bodies.keys()].join(' or ')}`);
        return problems;
      }
      const subject: unknown = hasBody ? structuredClone(body) : {};
      if (!validate(subject)) problems.push(...messages(validate.errors, ''));
      return problems;
    },
  };
}

interface Route {
  method: string;
  segments: string[];
  literals: number;
  compiled?: DocumentedOperation;
  spec: SpecOperation;
}

// Express (under NestJS) routes without strict mode: a trailing slash does not change the route.
function segmentsOf(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

function isTemplate(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

export function createGhlRequestValidator(root: string = defaultDocumentsDir()): GhlRequestValidator {
  const routes: Route[] = loadGhlOperations(root, SCHEMA_OVERLAY).map((spec) => {
    const segments = segmentsOf(spec.path);
    return { method: spec.method, segments, literals: segments.filter((part) => !isTemplate(part)).length, spec };
  });
  // A literal segment wins over a template (/contacts/search before /contacts/{contactId}).
  routes.sort((a, b) => b.literals - a.literals);

  return {
    match(method, path) {
      const wanted = segmentsOf(path);
      const route = routes.find(
        (candidate) =>
          candidate.method === method.toUpperCase() &&
          candidate.segments.length === wanted.length &&
          candidate.segments.every((part, index) => isTemplate(part) || part === wanted[index]),
      );
      if (route === undefined) return undefined;
      // Compiled on first use: most tests touch a handful of the documents' operations.
      route.compiled ??= compileOperation(route.spec);
      return route.compiled;
    },
  };
}

let shared: GhlRequestValidator | undefined;

/** One validator per process: the documents are read and compiled once, whatever the number of simulators. */
export function sharedGhlRequestValidator(): GhlRequestValidator {
  shared ??= createGhlRequestValidator();
  return shared;
}
