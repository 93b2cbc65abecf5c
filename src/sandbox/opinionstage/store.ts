/**
 * In-memory items, their questions and their responses. Listings are newest first (Pipedream's
 * public Opinion Stage poller relies on it); equal timestamps keep the later insertion first.
 */
import { JsonApiError, osErrors } from './errors.js';
import { newOsId } from './ids.js';
import {
  ItemInputSchema,
  LEAD_KINDS,
  ResponseInputSchema,
  type Answer,
  type Item,
  type ItemResponse,
  type Question,
} from './model.js';
import type { z } from 'zod';
import { parseOrThrow } from './validation.js';

export interface OsStore {
  /** Validates like the control API (422 JsonApiError); an id already taken is a 409. */
  addItem(input: unknown): Item;
  getItem(id: string): Item | undefined;
  /** Newest first. */
  listItems(): Item[];
  /** Resolves answers by question id or title; an unknown item is a 404, an unknown question a 422. */
  addResponse(itemId: string, input: unknown): { response: ItemResponse; sendWebhook: boolean };
  /** Newest first; undefined for an unknown item. */
  listResponses(itemId: string): ItemResponse[] | undefined;
}

interface Entry {
  item: Item;
  responses: ItemResponse[];
}

function byCreatedDesc<T extends { createdAt: string }>(records: readonly T[]): T[] {
  // Reverse first so that the stable sort keeps later insertions ahead among equal timestamps.
  return [...records].reverse().sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

type ParsedItemInput = z.output<typeof ItemInputSchema>;

/** Question ids are unique within an item; lead questions default by kind. */
function buildQuestions(inputs: ParsedItemInput['questions'], createdAt: string): Question[] {
  const seen = new Set<string>();
  return inputs.map((question) => {
    const questionId = question.id ?? newOsId();
    if (seen.has(questionId)) throw conflict(`Question ${questionId} appears twice`);
    seen.add(questionId);
    return {
      id: questionId,
      title: question.title,
      kind: question.kind,
      lead: question.lead ?? LEAD_KINDS.includes(question.kind),
      createdAt,
      modifiedAt: createdAt,
    };
  });
}

/** Answers keyed by question id or title, in the item's question order (a respondent fills it top to bottom). */
function orderedAnswers(item: Item, given: z.output<typeof ResponseInputSchema>['answers']): Answer[] {
  const { questions } = item;
  const selections = new Map<string, string[]>();
  for (const [key, value] of Object.entries(given)) {
    const question = questions.find((q) => q.id === key) ?? questions.find((q) => q.title === key);
    if (!question) {
      throw osErrors.invalid([{ pointer: `/answers/${key}`, detail: `no question with id or title "${key}" in item ${item.id}` }]);
    }
    selections.set(question.id, Array.isArray(value) ? value : [value]);
  }
  return questions.flatMap((q) => {
    const selection = selections.get(q.id);
    return selection === undefined ? [] : [{ question: q.id, selection }];
  });
}

const conflict = (detail: string): JsonApiError => new JsonApiError(409, [{ detail }]);

export function createOsStore(options: { baseUrl(): string; now?: () => Date }): OsStore {
  const entries = new Map<string, Entry>();
  const responseIds = new Set<string>();
  const now = options.now ?? (() => new Date());

  return {
    addItem(raw) {
      const input = parseOrThrow(ItemInputSchema, raw);
      const id = input.id ?? newOsId();
      if (entries.has(id)) throw conflict(`Item ${id} already exists`);
      const createdAt = input.createdAt ?? now().toISOString();
      const questions = buildQuestions(input.questions, createdAt);
      const item: Item = {
        id,
        title: input.title,
        type: input.type ?? 'quiz',
        status: input.status ?? 'published',
        createdAt,
        modifiedAt: createdAt,
        landingUrl: `${options.baseUrl()}/page/${encodeURIComponent(id)}`,
        questions,
      };
      entries.set(id, { item, responses: [] });
      return item;
    },

    getItem: (id) => entries.get(id)?.item,

    listItems: () => byCreatedDesc([...entries.values()].map((entry) => entry.item)),

    addResponse(itemId, raw) {
      const entry = entries.get(itemId);
      if (!entry) throw osErrors.notFound(`Item ${itemId} not found`);
      const input = parseOrThrow(ResponseInputSchema, raw);
      const id = input.id ?? newOsId();
      if (responseIds.has(id)) throw conflict(`Response ${id} already exists`);

      const answers = orderedAnswers(entry.item, input.answers);

      const response: ItemResponse = {
        id,
        itemId,
        answers,
        result:
          input.result === undefined
            ? null
            : {
                title: input.result.title,
                text: input.result.text ?? '',
                ...(input.result.score === undefined ? {} : { score: input.result.score }),
              },
        query: { ...input.query },
        createdAt: input.createdAt ?? now().toISOString(),
        durationSeconds: input.durationSeconds ?? 20 + 7 * answers.length,
        ...(input.nulls === undefined ? {} : { nulls: input.nulls }),
      };
      responseIds.add(id);
      entry.responses.push(response);
      return { response, sendWebhook: input.sendWebhook ?? true };
    },

    listResponses(itemId) {
      const entry = entries.get(itemId);
      return entry === undefined ? undefined : byCreatedDesc(entry.responses);
    },
  };
}
