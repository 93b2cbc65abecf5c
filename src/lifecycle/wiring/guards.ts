/**
 * What stands before every outside call: the shared circuit breaker and the shared rate budgets.
 * Both raise alerts through the `AlertPort` they are given (the alerts queue in the service).
 */
import { createGhlBudget, type GhlBudgetUsage } from '../../clients/ghl/ghl-budget.js';
import type { GhlCallBudget } from '../../clients/ghl/ghl-client.js';
import { budgetFor, type CallBudget } from '../../clients/http/budgeted.js';
import type { Config } from '../../config/env.js';
import type { Logger } from '../../observability/logger.js';
import type { Alerts } from '../../queue/alerts.js';
import { createCircuitBreaker, type CircuitBreaker } from '../../state/circuit-breaker.js';
import { TRUSTPILOT_BUDGET_KEY } from '../../state/rate-budget.js';
import type { Resources } from './resources.js';
import type { Stores } from './state.js';

export type AlertPort = Pick<Alerts, 'raise'>;

/** One alert per location and UTC day when this share of GHL's daily allowance is used. */
const DAILY_BUDGET_ALERT_SHARE = 0.9;

export function createBreaker(stores: Stores, config: Config, logger: Logger, alerts: AlertPort, resources: Resources): CircuitBreaker {
  const breaker = createCircuitBreaker({
    redis: stores.redis,
    prefix: stores.prefix,
    probeLeaseMs: config.UPSTREAM_TIMEOUT * 2 + 5_000,
    onStateChange: (change) => {
      logger.warn(change, 'circuit state changed');
      if (change.to === 'open') void alerts.raise({ kind: 'circuit-open', system: change.system, message: `calls to ${change.system} paused after repeated failures` });
    },
    onError: (error) => logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'circuit breaker error'),
  });
  resources.add('circuit-breaker', () => breaker.flush());
  return breaker;
}

export interface GhlGuard {
  /** The location's shared budget behind the circuit: an open circuit sends nothing and spends no budget. */
  budget: GhlCallBudget;
  usage(locationId: string): Promise<GhlBudgetUsage>;
}

export function createGhlGuard(stores: Stores, config: Config, breaker: CircuitBreaker, alerts: AlertPort): GhlGuard {
  const alertDailyBudget = async (locationId: string, used: number): Promise<void> => {
    if (!(await stores.dailyBudgetAlerts.firstToday(locationId))) return;
    await alerts.raise({ kind: 'daily-budget', system: 'ghl', locationId, message: `${Math.round(used * 100)} % of the daily GHL budget used; jobs wait for the next day once it is spent` });
  };
  const shared = createGhlBudget({
    budget: stores.budget,
    limit: { ...config.GHL_RATE_LIMIT, daily: config.GHL_DAILY_LIMIT },
    onDailyUsage: (locationId, used) => {
      if (used >= DAILY_BUDGET_ALERT_SHARE) void alertDailyBudget(locationId, used);
    },
  });
  return {
    budget: {
      ...shared,
      take: async (locationId: string) => {
        await breaker.check('ghl');
        return shared.take(locationId);
      },
    },
    usage: (locationId) => shared.usage(locationId),
  };
}

/** Trustpilot limits per API key: one budget every process shares. */
export function trustpilotBudget(stores: Pick<Stores, 'budget'>, config: Config): CallBudget {
  return budgetFor(stores.budget, 'trustpilot', TRUSTPILOT_BUDGET_KEY, config.TRUSTPILOT_RATE_LIMIT);
}
