/** The GHL client's note endpoints, below one contact. */
import { checked, contactChildPath, type GhlCaller, type ItemList } from './ghl-call.js';
import {
  CreateNoteBodySchema,
  NoteEnvelopeSchema,
  NoteListResponseSchema,
  UpdateNoteBodySchema,
  type CreateNoteBody,
  type Note,
  type UpdateNoteBody,
} from './schemas.js';

export interface GhlNotesApi {
  /** GET /contacts/{contactId}/notes (get-all-notes). */
  listNotes(locationId: string, contactId: string): Promise<ItemList<Note>>;
  /** GET /contacts/{contactId}/notes/{id} (get-note). */
  getNote(locationId: string, contactId: string, noteId: string): Promise<Note>;
  /** POST /contacts/{contactId}/notes (create-note). */
  createNote(locationId: string, contactId: string, input: CreateNoteBody): Promise<Note>;
  /** PUT /contacts/{contactId}/notes/{id} (update-note). */
  updateNote(locationId: string, contactId: string, noteId: string, patch: UpdateNoteBody): Promise<Note>;
  /** DELETE /contacts/{contactId}/notes/{id} (delete-note); resolves to GHL's `succeded`. */
  deleteNote(locationId: string, contactId: string, noteId: string): Promise<boolean>;
}

export function ghlNotesApi({ call, deleted }: GhlCaller): GhlNotesApi {
  const notePath = (contactId: string, noteId?: string) => contactChildPath(contactId, 'notes', noteId);

  return {
    async listNotes(locationId, contactId) {
      const { notes } = await call(locationId, { method: 'GET', path: notePath(contactId) }, NoteListResponseSchema);
      return { items: notes };
    },

    async getNote(locationId, contactId, noteId) {
      const { note } = await call(locationId, { method: 'GET', path: notePath(contactId, noteId) }, NoteEnvelopeSchema);
      return note;
    },

    async createNote(locationId, contactId, input) {
      const body = checked(CreateNoteBodySchema, input, 'note create');
      const { note } = await call(locationId, { method: 'POST', path: notePath(contactId), json: body }, NoteEnvelopeSchema);
      return note;
    },

    async updateNote(locationId, contactId, noteId, patch) {
      const body = checked(UpdateNoteBodySchema, patch, 'note update');
      const { note } = await call(locationId, { method: 'PUT', path: notePath(contactId, noteId), json: body }, NoteEnvelopeSchema);
      return note;
    },

    async deleteNote(locationId, contactId, noteId) {
      return deleted(locationId, notePath(contactId, noteId));
    },
  };
}
