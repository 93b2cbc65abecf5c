/**
 * Shapes of the simulated GHL records, following the Contacts API 2021-07-28 components
 * (GetContectByIdSchema, TaskSchema, GetNoteSchema) and locations.json CustomFieldSchema.
 */

/** Reads return custom field values as `{ id, value }`, never with the key (GHL issue #177). */
export interface CustomFieldValue {
  id: string;
  value: unknown;
}

export interface Contact {
  id: string;
  locationId: string;
  type: string;
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  firstNameLowerCase?: string | null;
  lastNameLowerCase?: string | null;
  fullNameLowerCase?: string | null;
  email?: string | null;
  emailLowerCase?: string | null;
  phone?: string | null;
  companyName?: string | null;
  website?: string | null;
  address1?: string | null;
  city?: string | null;
  state?: string | null;
  postalCode?: string | null;
  country?: string | null;
  timezone?: string | null;
  source?: string | null;
  assignedTo?: string | null;
  gender?: string | null;
  dateOfBirth?: string | null;
  dnd?: boolean;
  dndSettings?: Record<string, unknown>;
  inboundDndSettings?: Record<string, unknown>;
  businessId?: string | null;
  tags: string[];
  customFields: CustomFieldValue[];
  attachments: unknown[];
  dateAdded: string;
  dateUpdated: string;
}

/** Fields a write may set; identity, timestamps and the derived lower-case copies are the store's. */
export type ContactWrite = Partial<
  Omit<
    Contact,
    | 'id'
    | 'locationId'
    | 'type'
    | 'dateAdded'
    | 'dateUpdated'
    | 'emailLowerCase'
    | 'firstNameLowerCase'
    | 'lastNameLowerCase'
    | 'fullNameLowerCase'
    | 'attachments'
  >
>;

export interface Note {
  id: string;
  contactId: string;
  body: string;
  userId?: string;
  title?: string;
  color?: string;
  pinned?: boolean;
  dateAdded: string;
}

export type NoteWrite = Partial<Omit<Note, 'id' | 'contactId' | 'dateAdded'>>;

export interface Task {
  id: string;
  contactId: string;
  title: string;
  body?: string;
  assignedTo?: string;
  dueDate: string;
  completed: boolean;
  dateAdded: string;
}

export type TaskWrite = Partial<Omit<Task, 'id' | 'contactId' | 'dateAdded'>>;

export const CUSTOM_FIELD_DATA_TYPES = [
  'TEXT',
  'LARGE_TEXT',
  'NUMERICAL',
  'PHONE',
  'MONETORY',
  'CHECKBOX',
  'SINGLE_OPTIONS',
  'MULTIPLE_OPTIONS',
  'DATE',
  'TEXTBOX_LIST',
  'FILE_UPLOAD',
  'RADIO',
  'EMAIL',
] as const;

export type CustomFieldModel = 'contact' | 'opportunity';

export interface CustomField {
  id: string;
  name: string;
  fieldKey: string;
  placeholder: string;
  dataType: string;
  position: number;
  picklistOptions: string[];
  picklistImageOptions: string[];
  isAllowedCustomOption: boolean;
  isMultiFileAllowed: boolean;
  maxFileLimit: number;
  locationId: string;
  model: CustomFieldModel;
}

export interface CustomFieldInput {
  name: string;
  dataType: string;
  placeholder?: string;
  position?: number;
  model?: CustomFieldModel;
  picklistOptions?: string[];
  isMultipleFile?: boolean;
  maxNumberOfFiles?: number;
}
