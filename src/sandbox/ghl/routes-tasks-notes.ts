/**
 * Tasks and notes of a contact (apps/contacts.json). Deletes answer `{ succeded: true }` (sic).
 */
import type { FastifyInstance } from 'fastify';
import { requireContact } from './access.js';
import { ghlErrors } from './errors.js';
import type { Task } from './model.js';
import type { Mutations } from './mutations.js';
import {
  CreateNoteBodySchema,
  CreateTaskBodySchema,
  TaskCompletedBodySchema,
  UpdateNoteBodySchema,
  UpdateTaskBodySchema,
} from './schemas.js';
import type { GhlStore } from './store.js';
import { parseOrThrow } from './validation.js';

export interface TaskNoteRouteDeps {
  store: GhlStore;
  mutations: Mutations;
}

interface ContactParams {
  Params: { contactId: string };
}
interface TaskParams {
  Params: { contactId: string; taskId: string };
}
interface NoteParams {
  Params: { contactId: string; id: string };
}

/** TaskSchema has no dateAdded; it is kept internally for the webhook payloads only. */
function taskView(task: Task): Omit<Task, 'dateAdded'> {
  const { dateAdded: _dateAdded, ...view } = task;
  return view;
}

export function registerTaskNoteRoutes(app: FastifyInstance, deps: TaskNoteRouteDeps): void {
  const { store, mutations } = deps;

  const existingTask = (contactId: string, taskId: string): Task => {
    const task = store.getTask(contactId, taskId);
    if (!task) throw ghlErrors.missing('Task');
    return task;
  };

  app.get<ContactParams>('/contacts/:contactId/tasks', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    return { tasks: store.listTasks(contact.id).map(taskView) };
  });

  app.post<ContactParams>('/contacts/:contactId/tasks', async (request, reply) => {
    const contact = requireContact(store, request, request.params.contactId);
    const body = parseOrThrow(CreateTaskBodySchema, request.body);
    const task = mutations.createTask(contact.id, { ...body, dueDate: new Date(body.dueDate).toISOString() });
    return reply.code(201).send({ task: taskView(task) });
  });

  app.get<TaskParams>('/contacts/:contactId/tasks/:taskId', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    return { task: taskView(existingTask(contact.id, request.params.taskId)) };
  });

  app.put<TaskParams>('/contacts/:contactId/tasks/:taskId', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    existingTask(contact.id, request.params.taskId);
    const body = parseOrThrow(UpdateTaskBodySchema, request.body);
    const dueDate = body.dueDate === undefined ? undefined : new Date(body.dueDate).toISOString();
    return { task: taskView(mutations.updateTask(contact.id, request.params.taskId, { ...body, dueDate })) };
  });

  app.put<TaskParams>('/contacts/:contactId/tasks/:taskId/completed', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    existingTask(contact.id, request.params.taskId);
    const { completed } = parseOrThrow(TaskCompletedBodySchema, request.body);
    return { task: taskView(mutations.updateTask(contact.id, request.params.taskId, { completed })) };
  });

  app.delete<TaskParams>('/contacts/:contactId/tasks/:taskId', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    mutations.deleteTask(contact.id, request.params.taskId);
    return { succeded: true };
  });

  app.get<ContactParams>('/contacts/:contactId/notes', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    return { notes: store.listNotes(contact.id) };
  });

  app.post<ContactParams>('/contacts/:contactId/notes', async (request, reply) => {
    const contact = requireContact(store, request, request.params.contactId);
    const body = parseOrThrow(CreateNoteBodySchema, request.body);
    return reply.code(201).send({ note: mutations.createNote(contact.id, body) });
  });

  app.get<NoteParams>('/contacts/:contactId/notes/:id', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    const note = store.getNote(contact.id, request.params.id);
    if (!note) throw ghlErrors.missing('Note');
    return { note };
  });

  app.put<NoteParams>('/contacts/:contactId/notes/:id', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    if (!store.getNote(contact.id, request.params.id)) throw ghlErrors.missing('Note');
    const body = parseOrThrow(UpdateNoteBodySchema, request.body);
    return { note: mutations.updateNote(contact.id, request.params.id, body) };
  });

  app.delete<NoteParams>('/contacts/:contactId/notes/:id', async (request) => {
    const contact = requireContact(store, request, request.params.contactId);
    mutations.deleteNote(contact.id, request.params.id);
    return { succeded: true };
  });
}
