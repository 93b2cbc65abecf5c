/**
 * Failures in words: what happened and what to do, from an error text (a job's failed reason, a dead
 * letter's, a sync's). The dashboard, the contact page and its dead letters all use these words.
 */
export interface Advice {
  what: string;
  todo: string;
}

interface Rule {
  test: RegExp;
  advice: (match: RegExpMatchArray, locationId: string) => Advice;
}

const at = (locationId: string) => (locationId ? ` in location ${locationId}` : '');

const RULES: Rule[] = [
  {
    test: /custom field[^a-z0-9]*`?([a-z0-9_.]+)`?[^.]*(missing|not found|unknown)/i,
    advice: (match, locationId) => ({
      what: `The custom field ${match[1] ?? ''} is missing${at(locationId)}.`,
      todo: `Run \`npx ghl-bridge setup-fields${locationId ? ` --location ${locationId}` : ''}\`, then replay.`,
    }),
  },
  {
    test: /\b401\b|unauthori[sz]ed|invalid[_ ]token|invalid_grant|token (was )?revoked|reconnect/i,
    advice: (_match, locationId) => ({
      what: `GHL refused the bridge's token${at(locationId)}: the app was uninstalled or its token revoked.`,
      todo: 'Reconnect the location: open /oauth/install (or set a fresh private integration token), then replay.',
    }),
  },
  {
    test: /budget.*(spent|exceeded)|\b429\b|rate.?limit/i,
    advice: () => ({
      what: 'The call budget (ours or the upstream API\'s) was spent.',
      todo: 'Nothing: the bridge waits for the budget and retries on its own. If it keeps happening, lower the traffic or raise the budget.',
    }),
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

/** What happened and what to do for a failure text; `locationId` names the location in the advice. */
export function explainFailure(reason: string, locationId = ''): Advice {
  for (const rule of RULES) {
    const match = reason.match(rule.test);
    if (match) return rule.advice(match, locationId);
  }
  return { what: 'The job failed in a way the bridge has no advice for.', todo: 'Read the error and the logs (search for the job id); replay once the cause is fixed.' };
}

/** The advice as one line. */
export function adviceText(reason: string, locationId = ''): string {
  const advice = explainFailure(reason, locationId);
  return `${advice.what} ${advice.todo}`;
}
