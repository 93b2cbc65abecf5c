/**
 * Injected failures for the simulators' APIs (not the control routes), shared by all three. A rule matches on method and on a regular
 * expression tested against the request path without its query string; the first matching rule whose
 * dice roll succeeds fires, and `times` counts how often it may still fire.
 */
import { z } from 'zod';

export type Fault =
  | { kind: 'status'; status: number; body?: unknown }
  | { kind: 'latency'; ms: number }
  | { kind: 'timeout' }
  | { kind: 'rate-limit'; retryAfterSeconds?: number }
  | { kind: 'token-expired' }
  /** The request is carried out, then the connection drops before the answer: the client cannot know it succeeded. */
  | { kind: 'lost-response' }
  /** A 200 whose body is not valid JSON. */
  | { kind: 'malformed-body' };

export interface FaultRule {
  fault: Fault;
  method?: string;
  path?: RegExp;
  times?: number;
  probability?: number;
}

export const FaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('status'), status: z.number().int().min(100).max(599), body: z.unknown().optional() }),
  z.strictObject({ kind: z.literal('latency'), ms: z.number().int().min(0).max(600_000) }),
  z.strictObject({ kind: z.literal('timeout') }),
  z.strictObject({ kind: z.literal('rate-limit'), retryAfterSeconds: z.number().int().min(0).optional() }),
  z.strictObject({ kind: z.literal('token-expired') }),
  z.strictObject({ kind: z.literal('lost-response') }),
  z.strictObject({ kind: z.literal('malformed-body') }),
]);

/** The control API's form of a rule: `path` is a regular expression source string. */
export const FaultRuleInputSchema = z.strictObject({
  fault: FaultSchema,
  method: z.string().min(1).optional(),
  path: z.string().min(1).optional(),
  times: z.number().int().min(1).optional(),
  probability: z.number().min(0).max(1).optional(),
});
export type FaultRuleInput = z.infer<typeof FaultRuleInputSchema>;

export interface FaultRegistry {
  add(rule: FaultRule): string;
  remove(id: string): boolean;
  clear(): void;
  /** The fault to apply to this call, if any; consumes one of the rule's `times`. */
  take(method: string, path: string): Fault | undefined;
}

interface ActiveRule {
  id: string;
  rule: FaultRule;
  remaining: number;
}

export type FaultKind = Fault['kind'];

export class UnsupportedFaultError extends Error {
  readonly code = 'SANDBOX_FAULT_UNSUPPORTED';
  // Fastify answers the control API's caller with this status.
  readonly statusCode = 422;
}

/** `supported`: the kinds this simulator can act out; adding another is refused, never silently ignored. */
export function createFaultRegistry(supported: readonly FaultKind[], random: () => number = Math.random): FaultRegistry {
  let rules: ActiveRule[] = [];
  let counter = 0;
  return {
    add(rule) {
      if (!supported.includes(rule.fault.kind)) throw new UnsupportedFaultError(`this simulator does not act out '${rule.fault.kind}' faults`);
      counter += 1;
      const id = `fault_${counter}`;
      rules.push({ id, rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
      return id;
    },
    remove(id) {
      const before = rules.length;
      rules = rules.filter((active) => active.id !== id);
      return rules.length !== before;
    },
    clear() {
      rules = [];
    },
    take(method, path) {
      for (const active of rules) {
        const { rule } = active;
        if (active.remaining <= 0) continue;
        if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) continue;
        if (rule.path !== undefined) {
          rule.path.lastIndex = 0;
          if (!rule.path.test(path)) continue;
        }
        if (random() >= (rule.probability ?? 1)) continue;
        active.remaining -= 1;
        if (active.remaining <= 0) rules = rules.filter((other) => other !== active);
        return active.rule.fault;
      }
      return undefined;
    },
  };
}

/** The test-facing fault methods of a simulator: `injectFault` returns the rule's removal. */
export function faultControls(faults: FaultRegistry): { injectFault(rule: FaultRule): () => void; clearFaults(): void } {
  return {
    injectFault(rule) {
      const id = faults.add(rule);
      return () => {
        faults.remove(id);
      };
    },
    clearFaults: () => faults.clear(),
  };
}
