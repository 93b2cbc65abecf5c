/**
 * Loads GHL's official OpenAPI 3.0 documents (unchanged copies in openapi/upstream/ghl/) and turns each
 * operation into self-contained JSON Schemas Ajv can compile: `$ref`s inlined across files, OpenAPI's
 * `nullable` turned into a `null` type, and request bodies and queries closed. GHL validates inputs
 * with NestJS's ValidationPipe (whitelist + forbidNonWhitelisted): a property its DTO does not declare
 * is refused with "property x should not exist", so a declared object without `additionalProperties`
 * accepts nothing else.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Replacement schemas keyed by `<document>#<pointer>`, e.g. `apps/contacts.json#/components/schemas/X`. */
export type SchemaOverlay = Readonly<Record<string, JsonObject>>;

/** The documents the simulator serves; paths relative to openapi/upstream/ghl/. */
export const GHL_DOCUMENTS = ['apps/contacts.json', 'apps/locations.json', 'apps/oauth.json', 'apps/users.json', 'apps/custom-fields.json'] as const;

export interface SpecParameter {
  name: string;
  in: 'query' | 'header' | 'path' | 'cookie';
  required: boolean;
  schema: JsonObject;
}

export interface SpecOperation {
  method: string;
  /** As written in the document, e.g. /contacts/{contactId}/notes/{id}. */
  path: string;
  operationId: string;
  document: string;
  parameters: SpecParameter[];
  /** Schema per media type; undefined when the operation takes no body. */
  body?: { required: boolean; content: Record<string, JsonObject> };
  /** The operation names a security requirement (a bearer token). */
  secured: boolean;
}

// src/sandbox/ghl/ (tsx) and dist/sandbox/ghl/ (tsc) are both three levels below the repository root.
export function defaultDocumentsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../openapi/upstream/ghl');
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pointerKeys(pointer: string): string[] {
  return pointer
    .split('/')
    .filter((part) => part !== '')
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Puts each overlay schema in place in the freshly read document (a replacement, never a merge). */
function applyOverlay(file: string, document: JsonObject, overlay: SchemaOverlay): void {
  for (const [target, schema] of Object.entries(overlay)) {
    const [targetFile, pointer = ''] = target.split('#');
    if (targetFile !== file) continue;
    const keys = pointerKeys(pointer);
    const last = keys.pop();
    let node: Json = document;
    for (const key of keys) node = isObject(node) ? (node[key] ?? null) : null;
    if (!isObject(node) || last === undefined || node[last] === undefined) throw new Error(`overlay target ${target} does not exist`);
    node[last] = schema;
  }
}

class DocumentSet {
  private readonly cache = new Map<string, JsonObject>();
  constructor(
    private readonly root: string,
    private readonly overlay: SchemaOverlay,
  ) {}

  load(file: string): JsonObject {
    const cached = this.cache.get(file);
    if (cached) return cached;
    const parsed = JSON.parse(readFileSync(join(this.root, file), 'utf8')) as Json;
    if (!isObject(parsed)) throw new Error(`${file}: not an OpenAPI document`);
    applyOverlay(file, parsed, this.overlay);
    this.cache.set(file, parsed);
    return parsed;
  }

  /** `../common/common-schemas.json#/components/schemas/X` read from `file` → [its file, the node]. */
  resolveRef(file: string, ref: string): [string, Json] {
    const [target = '', pointer = ''] = ref.split('#');
    const targetFile = target === '' ? file : join(dirname(file), target);
    let node: Json = this.load(targetFile);
    for (const key of pointerKeys(pointer)) {
      node = isObject(node) ? (node[key] ?? null) : null;
      if (node === null) throw new Error(`${file}: unresolved $ref ${ref}`);
    }
    return [targetFile, node];
  }
}

interface Conversion {
  documents: DocumentSet;
  /** Close declared objects (request bodies and queries). */
  closed: boolean;
}

/** Inlines `$ref`s and converts an OpenAPI 3.0 schema object into JSON Schema (draft-07). */
function convertSchema(node: Json, file: string, options: Conversion, seen: readonly string[] = []): JsonObject {
  if (!isObject(node)) return {};
  const ref = node.$ref;
  if (typeof ref === 'string') {
    const key = `${file}#${ref}`;
    if (seen.includes(key)) throw new Error(`${file}: recursive $ref ${ref} is not supported`);
    const [targetFile, target] = options.documents.resolveRef(file, ref);
    return convertSchema(target, targetFile, options, [...seen, key]);
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'nullable' || key === 'example' || key === 'examples' || key === 'discriminator' || key === 'xml' || key === 'externalDocs') continue;
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, convertSchema(schema, file, options, seen)]));
    } else if ((key === 'items' || key === 'not') && isObject(value)) {
      out[key] = convertSchema(value, file, options, seen);
    } else if (key === 'additionalProperties' && isObject(value)) {
      out[key] = convertSchema(value, file, options, seen);
    } else if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((schema) => convertSchema(schema, file, options, seen));
    } else if (key === 'allOf' && Array.isArray(value)) {
      // Members of allOf describe parts of one object: closing each would refuse the others' properties.
      out[key] = value.map((schema) => convertSchema(schema, file, { ...options, closed: false }, seen));
    } else {
      out[key] = value;
    }
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  if (options.closed && isObject(out.properties) && out.additionalProperties === undefined && !Array.isArray(node.allOf)) {
    out.additionalProperties = false;
  }
  return out;
}

function readParameters(documents: DocumentSet, file: string, raw: Json | undefined): SpecParameter[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry): SpecParameter[] => {
    const [paramFile, param] = isObject(entry) && typeof entry.$ref === 'string' ? documents.resolveRef(file, entry.$ref) : [file, entry];
    if (!isObject(param) || typeof param.name !== 'string') return [];
    const where = param.in;
    if (where !== 'query' && where !== 'header' && where !== 'path' && where !== 'cookie') return [];
    const schema = convertSchema(param.schema ?? {}, paramFile, { documents, closed: false });
    return [{ name: param.name, in: where, required: param.required === true || where === 'path', schema }];
  });
}

function readBody(documents: DocumentSet, file: string, raw: Json | undefined): SpecOperation['body'] {
  if (!isObject(raw)) return undefined;
  const content = isObject(raw.content) ? raw.content : {};
  const schemas: Record<string, JsonObject> = {};
  for (const [mediaType, media] of Object.entries(content)) {
    schemas[mediaType] = isObject(media) ? convertSchema(media.schema ?? {}, file, { documents, closed: true }) : {};
  }
  return { required: raw.required === true, content: schemas };
}

/** Every operation of the given documents (default: the ones the simulator serves). */
export function loadGhlOperations(
  root: string = defaultDocumentsDir(),
  overlay: SchemaOverlay = {},
  files: readonly string[] = GHL_DOCUMENTS,
): SpecOperation[] {
  const documents = new DocumentSet(root, overlay);
  const operations: SpecOperation[] = [];
  for (const file of files) {
    const paths = documents.load(file).paths;
    if (!isObject(paths)) continue;
    for (const [path, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      const shared = readParameters(documents, file, item.parameters);
      for (const method of METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const own = readParameters(documents, file, op.parameters);
        const parameters = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
        operations.push({
          method: method.toUpperCase(),
          path,
          operationId: typeof op.operationId === 'string' ? op.operationId : `${method} ${path}`,
          document: file,
          parameters,
          body: readBody(documents, file, op.requestBody),
          secured: Array.isArray(op.security) && op.security.length > 0,
        });
      }
    }
  }
  return operations;
}
