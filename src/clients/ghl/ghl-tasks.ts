/** The GHL client's task endpoints, below one contact. */
import { checked, contactChildPath, type GhlCaller, type ItemList } from './ghl-call.js';
import {
  CompleteTaskBodySchema,
  CreateTaskBodySchema,
  TaskEnvelopeSchema,
  TaskListResponseSchema,
  UpdateTaskBodySchema,
  type CreateTaskInput,
  type Task,
  type UpdateTaskBody,
} from './schemas.js';

export interface GhlTasksApi {
  /** GET /contacts/{contactId}/tasks (get-all-tasks). */
  listTasks(locationId: string, contactId: string): Promise<ItemList<Task>>;
  /** POST /contacts/{contactId}/tasks (create-task); `completed` defaults to false. */
  createTask(locationId: string, contactId: string, input: CreateTaskInput): Promise<Task>;
  /** GET /contacts/{contactId}/tasks/{taskId} (get-task). */
  getTask(locationId: string, contactId: string, taskId: string): Promise<Task>;
  /** PUT /contacts/{contactId}/tasks/{taskId} (update-task). */
  updateTask(locationId: string, contactId: string, taskId: string, patch: UpdateTaskBody): Promise<Task>;
  /** PUT /contacts/{contactId}/tasks/{taskId}/completed (update-task-completed). */
  completeTask(locationId: string, contactId: string, taskId: string, completed?: boolean): Promise<Task>;
  /** DELETE /contacts/{contactId}/tasks/{taskId} (delete-task); resolves to GHL's `succeded`. */
  deleteTask(locationId: string, contactId: string, taskId: string): Promise<boolean>;
}

export function ghlTasksApi({ call, deleted }: GhlCaller): GhlTasksApi {
  const taskPath = (contactId: string, taskId?: string) => contactChildPath(contactId, 'tasks', taskId);

  return {
    async listTasks(locationId, contactId) {
      const { tasks } = await call(locationId, { method: 'GET', path: taskPath(contactId) }, TaskListResponseSchema);
      return { items: tasks };
    },

    async createTask(locationId, contactId, input) {
      const body = checked(CreateTaskBodySchema, input, 'task create');
      const { task } = await call(locationId, { method: 'POST', path: taskPath(contactId), json: body }, TaskEnvelopeSchema);
      return task;
    },

    async getTask(locationId, contactId, taskId) {
      const { task } = await call(locationId, { method: 'GET', path: taskPath(contactId, taskId) }, TaskEnvelopeSchema);
      return task;
    },

    async updateTask(locationId, contactId, taskId, patch) {
      const body = checked(UpdateTaskBodySchema, patch, 'task update');
      const { task } = await call(locationId, { method: 'PUT', path: taskPath(contactId, taskId), json: body }, TaskEnvelopeSchema);
      return task;
    },

    async completeTask(locationId, contactId, taskId, completed = true) {
      const body = checked(CompleteTaskBodySchema, { completed }, 'task completion');
      const path = `${taskPath(contactId, taskId)}/completed`;
      const { task } = await call(locationId, { method: 'PUT', path, json: body }, TaskEnvelopeSchema);
      return task;
    },

    async deleteTask(locationId, contactId, taskId) {
      return deleted(locationId, taskPath(contactId, taskId));
    },
  };
}
