/**
 * Reading an Opinion Stage response, pure: who answered (the contact to write to), and the answers as
 * note lines. No I/O.
 */
import { z } from 'zod';
import type { OsAnswer, OsQuestion, OsResponse } from '../clients/opinionstage/schemas.js';
import { answersOf } from './opinionstage-response.js';

/** Flat fields a webhook sender may add beside the response (src/webhooks/opinionstage-response.ts). */
export interface OsFlatFields {
  email?: string;
  name?: string;
  phone?: string;
  contactId?: string;
}

export interface Respondent {
  contactId?: string;
  /** The GHL location the personal link was built for (`location_id`). */
  locationId?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  name?: string;
  phone?: string;
}

type Field = 'contactId' | 'locationId' | 'email' | 'name' | 'firstName' | 'lastName' | 'phone';
type Candidates = Partial<Record<Field, string>>;

/** GHL contact ids end up in URL paths and Redis keys: letters, digits, `_` and `-` only (as for GHL webhooks). */
const CONTACT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const EmailSchema = z.email();
const PHONE = /^\+?[\d\s().-]{7,32}$/;

/**
 * Personal-link parameter names, compared lower-cased without `_`/`-`. The bridge builds the links
 * (src/domain/survey-link.ts), so `contact_id` is ours; the rest are spellings other tools use.
 */
const LINK_KEYS: Record<string, Field> = {
  contactid: 'contactId',
  ghlcontactid: 'contactId',
  locationid: 'locationId',
  email: 'email',
  name: 'name',
  fullname: 'name',
  firstname: 'firstName',
  lastname: 'lastName',
  phone: 'phone',
};

/** Question kinds naming a contact field, compared like LINK_KEYS. No source documents the kind values: these are inferred. */
const KIND_FIELDS: Record<string, Field> = {
  email: 'email',
  emailaddress: 'email',
  name: 'name',
  fullname: 'name',
  firstname: 'firstName',
  lastname: 'lastName',
  phone: 'phone',
  phonenumber: 'phone',
  tel: 'phone',
};

/** Titles, in order (first and last name before the bare "name"). */
const TITLE_FIELDS: [RegExp, Field][] = [
  [/e-?mail/i, 'email'],
  [/first\s*name|given\s*name/i, 'firstName'],
  [/last\s*name|surname|family\s*name/i, 'lastName'],
  [/phone|mobile|\btel\b/i, 'phone'],
  [/^(?!.*\b(?:company|business|organi[sz]ation|user)\s*name\b).*\bname\b/i, 'name'],
];

/** Questions whose answer is picked from options: a title such as "Name your favourite…" must not make it a name. */
const CHOICE_KIND = /choice|select|option|rating|scale|nps|poll|image|yes.?no|slider|rank/i;

/**
 * Finds who answered. Each field takes the first valid value from, in order:
 * 1. the personal link: `attributes.utm` / `attributes.hidden_fields` keys such as contact_id, contactId,
 *    ghl_contact_id, location_id, email, name, phone — the bridge writes these links itself (the location
 *    is read from the link only);
 * 2. lead-form answers, joined to `questions` by id (an unknown id is read as the title itself):
 *    - confirmed by observed schemas only: answers carry question ids, questions carry `lead` and `kind`;
 *    - inferred, undocumented: a kind such as email/name/phone names the field; else, unless the kind is a
 *      choice kind, a title matching /e-?mail/, /first name/, /last name/, /phone/, /name/; else a lead=true
 *      question whose answer is a valid email;
 * 3. the flat webhook fields.
 * Emails are validated and lower-cased, phones checked for shape, contact ids for GHL's id alphabet; a bad
 * value is skipped, not fatal. A full name is split into first and last when those are not given.
 */
export function findRespondent(response: OsResponse, questions: OsQuestion[], flat: OsFlatFields = {}): Respondent {
  const sources: Candidates[] = [fromLink(response), fromLeadAnswers(response, questions), flat];
  const found: Candidates = {};
  for (const source of sources) {
    for (const field of ['contactId', 'locationId', 'email', 'name', 'firstName', 'lastName', 'phone'] as const) {
      // Only the link names a location: an answer or a flat field saying one is not ours.
      if (found[field] !== undefined || (field === 'locationId' && source !== sources[0])) continue;
      const value = clean(field, source[field]);
      if (value !== undefined) found[field] = value;
    }
  }
  return withNames(found);
}

/** The location a personal link was built for (`location_id`), read from the link only. */
export function linkLocationId(response: OsResponse): string | undefined {
  return clean('locationId', fromLink(response).locationId);
}

function fromLink(response: OsResponse): Candidates {
  const found: Candidates = {};
  for (const params of [response.attributes?.utm, response.attributes?.hidden_fields]) {
    for (const [key, raw] of Object.entries(params ?? {})) {
      const field = LINK_KEYS[normalKey(key)];
      const value = firstString(raw);
      if (field !== undefined && value !== undefined && clean(field, found[field]) === undefined) found[field] = value;
    }
  }
  return found;
}

function fromLeadAnswers(response: OsResponse, questions: OsQuestion[]): Candidates {
  const byId = new Map(questions.map((question) => [question.id, question]));
  const found: Candidates = {};
  for (const answer of answersOf(response)) {
    if (answer.question === undefined || answer.question === null) continue;
    const value = answerText(answer, ' ');
    if (value === '') continue;
    const question = byId.get(answer.question);
    const field = question === undefined ? fieldOfTitle(answer.question, undefined) : fieldOfQuestion(question);
    const target = field ?? (question?.attributes?.lead === true && clean('email', value) !== undefined ? 'email' : undefined);
    if (target !== undefined && clean(target, found[target]) === undefined) found[target] = value;
  }
  return found;
}

function fieldOfQuestion(question: OsQuestion): Field | undefined {
  const kind = question.attributes?.kind ?? undefined;
  const byKind = kind === undefined ? undefined : KIND_FIELDS[normalKey(kind)];
  return byKind ?? fieldOfTitle(question.attributes?.title ?? undefined, kind);
}

function fieldOfTitle(title: string | undefined, kind: string | undefined): Field | undefined {
  if (title === undefined || (kind !== undefined && CHOICE_KIND.test(kind))) return undefined;
  return TITLE_FIELDS.find(([pattern]) => pattern.test(title))?.[1];
}

/** A candidate value made safe for its field, or undefined when it is not a usable value. */
function clean(field: Field, raw: string | undefined): string | undefined {
  const value = raw?.replace(/\s+/g, ' ').trim();
  if (value === undefined || value === '') return undefined;
  switch (field) {
    case 'contactId':
    case 'locationId':
      return CONTACT_ID.test(value) ? value : undefined;
    case 'email': {
      const email = value.toLowerCase();
      return EmailSchema.safeParse(email).success ? email : undefined;
    }
    case 'phone':
      return PHONE.test(value) && (value.match(/\d/g)?.length ?? 0) >= 7 ? value : undefined;
    default:
      return value.length <= 200 ? value : undefined;
  }
}

/** Fills name from first/last, or first/last from name (first word, then the rest). */
function withNames(found: Candidates): Respondent {
  const respondent: Respondent = { ...found };
  if (respondent.name === undefined && (found.firstName !== undefined || found.lastName !== undefined)) {
    respondent.name = [found.firstName, found.lastName].filter((part) => part !== undefined).join(' ');
  }
  if (found.name !== undefined && found.firstName === undefined && found.lastName === undefined) {
    const [first, ...rest] = found.name.split(' ');
    if (first !== undefined && first !== '') respondent.firstName = first;
    if (rest.length > 0) respondent.lastName = rest.join(' ');
  }
  return respondent;
}

export interface AnswerLine {
  question: string;
  answer: string;
}

/**
 * Answers joined to question titles, in question order, for the note: `[{ question: title, answer: 'a, b' }]`.
 * Answers to unknown question ids follow in their own order, titled by the id; empty answers are left out.
 */
export function answerLines(response: OsResponse, questions: OsQuestion[]): AnswerLine[] {
  const order = new Map(questions.map((question, index) => [question.id, index]));
  const lines: { rank: number; seq: number; line: AnswerLine }[] = [];
  answersOf(response).forEach((answer, seq) => {
    const id = answer.question;
    if (id === undefined || id === null) return;
    const value = answerText(answer, ', ');
    if (value === '') return;
    const rank = order.get(id);
    const title = rank === undefined ? id : (questions[rank]?.attributes?.title ?? undefined);
    lines.push({ rank: rank ?? questions.length, seq, line: { question: title === undefined || title.trim() === '' ? id : title, answer: value } });
  });
  return lines.sort((a, b) => a.rank - b.rank || a.seq - b.seq).map(({ line }) => line);
}

function answerText(answer: OsAnswer, separator: string): string {
  return (answer.selection ?? [])
    .filter((value) => value !== null)
    .map((value) => String(value).trim())
    .filter((value) => value !== '')
    .join(separator);
}

function firstString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return firstString(value[0]);
  return undefined;
}

function normalKey(key: string): string {
  return key.toLowerCase().replace(/[\s_-]/g, '');
}
