/**
 * JSON:API resource objects as the Public Result API serves them (field names from the
 * Airbyte schemas auto-imported from real responses). Links are absolute and point at the simulator.
 */
import type { Item, ItemResponse, Question } from './model.js';

export const API_PREFIX = '/api/v2';

export interface ItemResource {
  id: string;
  type: 'item';
  attributes: {
    title: string;
    status: string;
    kind: string;
    embed: { iframe: string; script: string };
    timestamps: { created: string; modified: string };
  };
  links: { self: string; edit: string; iframe: string; landing: string; results: string };
  relationships: { questions: { links: { related: string } } };
}

export interface QuestionResource {
  id: string;
  type: 'question';
  attributes: { title: string; kind: string; lead: boolean; timestamps: { created: string; modified: string } };
}

export interface ResponseResource {
  id: string;
  type: 'response';
  attributes: {
    answers: { question: string; selection: string[] }[] | null;
    result: { title: string; text: string; score?: number } | null;
    timestamps: { created: string };
    timings: { duration: number };
    utm: Record<string, string>;
    hidden_fields: Record<string, string>;
  } | null;
  links: { self: string };
}

const segment = encodeURIComponent;

export function itemPath(itemId: string): string {
  return `${API_PREFIX}/items/${segment(itemId)}`;
}

export function toItemResource(item: Item, baseUrl: string): ItemResource {
  const iframe = `${baseUrl}/embed/${segment(item.id)}`;
  return {
    id: item.id,
    type: 'item',
    attributes: {
      title: item.title,
      status: item.status,
      kind: item.type,
      embed: {
        iframe: `<iframe src="${iframe}" width="100%" height="600" frameborder="0"></iframe>`,
        script: `<div class="os_widget" data-path="/${segment(item.id)}"></div><script src="${baseUrl}/embed.js" async></script>`,
      },
      timestamps: { created: item.createdAt, modified: item.modifiedAt },
    },
    links: {
      self: `${baseUrl}${itemPath(item.id)}`,
      edit: `${baseUrl}/dashboard/items/${segment(item.id)}/edit`,
      iframe,
      landing: item.landingUrl,
      results: `${baseUrl}/dashboard/items/${segment(item.id)}/results`,
    },
    relationships: { questions: { links: { related: `${baseUrl}${itemPath(item.id)}/questions` } } },
  };
}

export function toQuestionResource(question: Question): QuestionResource {
  return {
    id: question.id,
    type: 'question',
    attributes: {
      title: question.title,
      kind: question.kind,
      lead: question.lead,
      timestamps: { created: question.createdAt, modified: question.modifiedAt },
    },
  };
}

export function toResponseResource(response: ItemResponse, baseUrl: string): ResponseResource {
  // Airbyte's schema, imported from real records, allows null for both.
  if (response.nulls === 'attributes') {
    return { id: response.id, type: 'response', attributes: null, links: { self: `${baseUrl}${itemPath(response.itemId)}/responses/${segment(response.id)}` } };
  }
  return {
    id: response.id,
    type: 'response',
    attributes: {
      answers: response.nulls === 'answers' ? null : response.answers.map((answer) => ({ question: answer.question, selection: [...answer.selection] })),
      result: response.result === null ? null : { ...response.result },
      timestamps: { created: response.createdAt },
      timings: { duration: response.durationSeconds },
      // Whether Opinion Stage copies arbitrary link parameters into `utm` is not documented: both carry them.
      utm: { ...response.query },
      hidden_fields: { ...response.query },
    },
    links: { self: `${baseUrl}${itemPath(response.itemId)}/responses/${segment(response.id)}` },
  };
}
