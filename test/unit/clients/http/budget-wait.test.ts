/**
 * A refused call waits in place only in the middle of a job run, for a window that clears soon;
 * otherwise the refusal goes to the failure policy, which delays the job.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noteRunProgress, runAsJob, takeSlot } from '../../../../src/clients/http/budget-wait.js';
import { RateBudgetExceededError } from '../../../../src/clients/http/rate-budget-types.js';

/** A budget that grants `grants` calls, then refuses `refusals` times with `retryAfterMs`, then grants again. */
function scriptedBudget(options: { grants: number; refusals: number; retryAfterMs: number; scope?: 'window' | 'day' | 'blocked' }) {
  let asked = 0;
  return {
    get asked() {
      return asked;
    },
    async takeOnce(): Promise<string> {
      asked += 1;
      const refusing = asked > options.grants && asked <= options.grants + options.refusals;
      if (refusing) throw new RateBudgetExceededError('ghl', options.retryAfterMs, options.scope ?? 'window');
      return `slot-${asked}`;
    },
  };
}

describe('takeSlot', () => {
  test('outside a job run, a refusal is thrown at once', async () => {
    const budget = scriptedBudget({ grants: 1, refusals: 1, retryAfterMs: 10 });
    await takeSlot(() => budget.takeOnce());
    await assert.rejects(takeSlot(() => budget.takeOnce()), RateBudgetExceededError);
  });

  test('a job refused at its first call is delayed, not held', async () => {
    const budget = scriptedBudget({ grants: 0, refusals: 1, retryAfterMs: 10 });
    await assert.rejects(runAsJob(() => takeSlot(() => budget.takeOnce())), RateBudgetExceededError);
    assert.equal(budget.asked, 1);
  });

  test('a job refused midway waits for its slot and goes on', async () => {
    const budget = scriptedBudget({ grants: 2, refusals: 3, retryAfterMs: 20 });
    const started = performance.now();
    const slots = await runAsJob(async () => [await takeSlot(() => budget.takeOnce()), await takeSlot(() => budget.takeOnce()), await takeSlot(() => budget.takeOnce())]);
    assert.deepEqual(slots, ['slot-1', 'slot-2', 'slot-6']);
    assert.ok(performance.now() - started >= 55, 'waited for each refusal');
  });

  test('a wait longer than the cap is left to the job delay', async () => {
    const budget = scriptedBudget({ grants: 1, refusals: 5, retryAfterMs: 40 });
    const outcome = runAsJob(async () => {
      await takeSlot(() => budget.takeOnce(), 100);
      await takeSlot(() => budget.takeOnce(), 100);
    });
    await assert.rejects(outcome, (error: unknown) => error instanceof RateBudgetExceededError && error.retryAfterMs === 40);
    assert.ok(budget.asked <= 4, `gave up once the waits passed the cap (asked ${budget.asked} times)`);
  });

  test('the daily cap is never waited for in place', async () => {
    const budget = scriptedBudget({ grants: 1, refusals: 1, retryAfterMs: 5, scope: 'day' });
    await assert.rejects(
      runAsJob(async () => {
        await takeSlot(() => budget.takeOnce());
        await takeSlot(() => budget.takeOnce());
      }),
      (error: unknown) => error instanceof RateBudgetExceededError && error.scope === 'day',
    );
  });

  test('other errors pass through untouched', async () => {
    const boom = new Error('redis down');
    await assert.rejects(runAsJob(() => takeSlot(() => Promise.reject(boom))), (error: unknown) => error === boom);
  });

  test('each job run counts its own calls', async () => {
    const budget = scriptedBudget({ grants: 1, refusals: 1, retryAfterMs: 5 });
    await runAsJob(() => takeSlot(() => budget.takeOnce()));
    // A new run that has spent nothing yet is refused outright, whatever an earlier run was granted.
    await assert.rejects(runAsJob(() => takeSlot(() => budget.takeOnce())), RateBudgetExceededError);
  });
});

describe('noteRunProgress', () => {
  test('a run that used up a snapshot waits in place at its first call', async () => {
    const budget = scriptedBudget({ grants: 0, refusals: 2, retryAfterMs: 10 });
    const slot = await runAsJob(async () => {
      noteRunProgress();
      return takeSlot(() => budget.takeOnce());
    });
    assert.equal(slot, 'slot-3');
  });

  test('outside a job run it changes nothing', async () => {
    noteRunProgress();
    const budget = scriptedBudget({ grants: 0, refusals: 1, retryAfterMs: 10 });
    await assert.rejects(takeSlot(() => budget.takeOnce()), RateBudgetExceededError);
  });
});
