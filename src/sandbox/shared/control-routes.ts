/**
 * The control routes every simulator has under its control prefix: the call log (read, clear), the
 * webhook deliveries, and injected faults (add, clear, remove one). Each simulator passes its own
 * error answers, so a bad request reads like that simulator's other refusals.
 */
import type { FastifyInstance } from 'fastify';
import type { FaultRegistry, FaultRuleInput } from './faults.js';

export interface CommonControlDeps {
  calls: unknown[];
  deliveries: readonly unknown[];
  faults: FaultRegistry;
}

export interface CommonControlAnswers {
  /** Parses a fault rule body, throwing the simulator's validation error. */
  parseRule(body: unknown): FaultRuleInput;
  /** The `path` of a rule is not a regular expression. */
  invalidPath(): Error;
  faultNotFound(id: string): Error;
  /** The status a newly added fault is answered with. */
  createdStatus: number;
}

export function registerCommonControlRoutes(
  app: FastifyInstance,
  prefix: string,
  deps: CommonControlDeps,
  answers: CommonControlAnswers,
): void {
  app.get(`${prefix}/calls`, async () => ({ calls: deps.calls }));
  app.delete(`${prefix}/calls`, async () => {
    deps.calls.length = 0;
    return { calls: [] };
  });

  app.get(`${prefix}/deliveries`, async () => ({ deliveries: deps.deliveries }));

  app.post(`${prefix}/faults`, async (request, reply) => {
    const input = answers.parseRule(request.body);
    let path: RegExp | undefined;
    try {
      path = input.path === undefined ? undefined : new RegExp(input.path);
    } catch {
      throw answers.invalidPath();
    }
    return reply.code(answers.createdStatus).send({ id: deps.faults.add({ ...input, path }) });
  });
  app.delete(`${prefix}/faults`, async () => {
    deps.faults.clear();
    return { cleared: true };
  });
  app.delete<{ Params: { id: string } }>(`${prefix}/faults/:id`, async (request) => {
    if (!deps.faults.remove(request.params.id)) throw answers.faultNotFound(request.params.id);
    return { removed: true };
  });
}
