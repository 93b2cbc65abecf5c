/**
 * What a client calls before each outside request: take one call from the shared budget, or throw
 * RateBudgetExceededError with the wait, so the job is delayed instead of holding a worker slot
 * (except in the middle of a job run, see budget-wait.ts).
 */
import { RateBudgetExceededError, type BudgetLimit, type RateBudget } from './rate-budget-types.js';
import { takeSlot } from './budget-wait.js';

export interface CallBudget {
  /** Resolves when a call is granted; throws RateBudgetExceededError when the budget is spent. */
  take(): Promise<void>;
}

export function budgetFor(budget: RateBudget, system: string, key: string, limit: BudgetLimit): CallBudget {
  return {
    async take() {
      await takeSlot(async () => {
        const decision = await budget.take(key, limit);
        if (!decision.ok) throw new RateBudgetExceededError(system, decision.retryAfterMs, decision.scope ?? 'window');
      });
    },
  };
}
