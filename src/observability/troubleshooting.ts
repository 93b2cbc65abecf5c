/**
 * Failures in words: what happened and what to do. The dashboard (failed jobs, dead letters, a
 * contact's syncs) explains an error text with `explainFailure`; `ghl-bridge doctor` says the same
 * sentences through the builders below (missing custom fields, a location to reconnect, a spent
 * budget), so an operator reads one wording wherever a problem shows up. Pure: no I/O, no clock.
 */
export interface Advice {
  what: string;
  todo: string;
}

interface Rule {
  test: RegExp;
  advice: (match: RegExpMatchArray, context: AdviceContext) => Advice;
}

/** Where and when the failure happened, when known: named in the advice. */
export interface AdviceContext {
  locationId: string;
  /** When the failure was recorded (epoch ms): turns "next call in N ms" into a clock time. */
  at?: number | undefined;
}

const at = (locationId: string) => (locationId ? ` in location ${locationId}` : '');
const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;
const THEN_REPLAY = ' Then replay.';

/** The custom fields the mapping writes that the location lacks. */
export function missingFieldsAdvice(fieldKeys: readonly string[], locationId: string): Advice {
  const names = fieldKeys.join(', ');
  return {
    what: fieldKeys.length === 1 ? `The custom field ${names} is missing${at(locationId)}.` : `The custom fields ${names} are missing${at(locationId)}.`,
    todo: `Run \`npx ghl-bridge setup-fields${locationId ? ` --location ${locationId}` : ''}\`.`,
  };
}

/** GHL no longer accepts the bridge's token (or refresh token) for a location. */
export function reconnectAdvice(locationId: string): Advice {
  return {
    what: `GHL refused the bridge's token${at(locationId)}: the app was uninstalled or its token revoked.`,
    todo: `Reconnect ${locationId ? `location ${locationId}` : 'the location'}: open /oauth/install (or set a fresh private integration token).`,
  };
}

const SYSTEM_NAMES: Record<string, string> = { ghl: 'GHL', trustpilot: 'Trustpilot', opinionstage: 'Opinion Stage' };

/**
 * A call budget (the bridge's own or the upstream's) is spent; `system` as the budget names it
 * (`ghl`, `trustpilot`), empty when unknown; `until` when the next call is allowed.
 */
export function budgetSpentAdvice(system: string, until?: number): Advice {
  const whose = system ? `The ${SYSTEM_NAMES[system.toLowerCase()] ?? system} call budget` : "The call budget (ours or the upstream API's)";
  return {
    what: until === undefined ? `${whose} was spent.` : `${whose} is spent until ${clock(until)}.`,
    todo: 'Nothing: the bridge waits for the budget and retries on its own. If it keeps happening, lower the traffic or raise the budget.',
  };
}

/** "custom field `contact.x` is missing", or a plan's "custom field contact.x does not exist in location L". */
const MISSING_FIELD = /custom field[^a-z0-9]*`?([a-z0-9_.]+)`?[^.]*(missing|not found|unknown|does not exist)/i;

/** A run's warning (it went on without that write) in words; a warning without advice as it is. */
export function warningText(warning: string, locationId = ''): string {
  const match = warning.match(MISSING_FIELD);
  if (!match) return warning;
  const advice = missingFieldsAdvice([match[1] ?? ''], locationId);
  return `${advice.what} ${advice.todo} Then sync the contact again.`;
}

const RULES: Rule[] = [
  {
    test: MISSING_FIELD,
    advice: (match, context) => {
      const advice = missingFieldsAdvice([match[1] ?? ''], context.locationId);
      return { what: advice.what, todo: advice.todo + THEN_REPLAY };
    },
  },
  {
    test: /\b401\b|unauthori[sz]ed|invalid[_ ]token|invalid_grant|token (was )?revoked|reconnect/i,
    advice: (_match, context) => {
      const advice = reconnectAdvice(context.locationId);
      return { what: advice.what, todo: advice.todo + THEN_REPLAY };
    },
  },
  {
    // The bridge's own budget error: "<system> call budget spent (<scope>); next call in <ms> ms".
    test: /\b(ghl|trustpilot|opinionstage)\b call budget spent[^;]*;\s*next call in (\d+) ms/i,
    advice: (match, context) => budgetSpentAdvice(match[1] ?? '', context.at === undefined ? undefined : context.at + Number(match[2] ?? 0)),
  },
  {
    test: /budget.*(spent|exceeded)|\b429\b|rate.?limit/i,
    advice: () => budgetSpentAdvice(''),
  },
  {
    test: /circuit.*open/i,
    advice: () => ({ what: 'The upstream kept failing, so the bridge stopped calling it for a while.', todo: 'Check the upstream\'s status page; the bridge probes again on its own.' }),
  },
  {
    test: /\b404\b|not found/i,
    advice: () => ({
      what: 'GHL says the contact (or a note or task of it) does not exist: it was deleted or merged.',
      todo: 'Check the contact in GHL. If it is gone, discard the dead letter; if it exists, replay.',
    }),
  },
  {
    test: /\b403\b|forbidden|scope/i,
    advice: () => ({ what: 'The upstream refused the call: the app lacks a permission (scope) it needs.', todo: 'Reinstall the app with the scopes listed in the README, then replay.' }),
  },
  {
    test: /\b(400|422)\b|validation|invalid/i,
    advice: () => ({ what: 'The upstream rejected the request as invalid.', todo: 'Check the mapping file (`GET /admin/mapping`); fix it, then replay.' }),
  },
  {
    test: /timeout|timed out|ECONN|ENOTFOUND|EAI_AGAIN|socket|network|\b5\d\d\b/i,
    advice: () => ({ what: 'The upstream could not be reached or failed on its side.', todo: 'Nothing at first: the bridge retries with backoff. If it lasts, check the network and the upstream\'s status.' }),
  },
  {
    test: /stalled/i,
    advice: () => ({ what: 'A worker stopped (crashed or was killed) while running this job, more than once.', todo: 'Check the worker logs and memory; replay once it is healthy.' }),
  },
];

/** What happened and what to do for a failure text; `locationId` names the location, `failedAt` dates a budget's end. */
export function explainFailure(reason: string, locationId = '', failedAt?: number): Advice {
  for (const rule of RULES) {
    const match = reason.match(rule.test);
    if (match) return rule.advice(match, { locationId, at: failedAt });
  }
  return { what: 'The job failed in a way the bridge has no advice for.', todo: 'Read the error and the logs (search for the job id); replay once the cause is fixed.' };
}

/** The advice as one line. */
export function adviceText(reason: string, locationId = '', failedAt?: number): string {
  const advice = explainFailure(reason, locationId, failedAt);
  return `${advice.what} ${advice.todo}`;
}
