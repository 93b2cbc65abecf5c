/**
 * Benchmark 2, upstream efficiency: a scripted day against the GHL and Trustpilot simulators
 * (creates, bursts of updates, echoes of our own writes, unchanged re-saves, reviews arriving and
 * changing), counting every GHL and Trustpilot call. Baseline: the naive per-event flow a
 * Zapier-style integration runs (read contact, look up Trustpilot, write fields, add note: 3 GHL
 * calls and 1 Trustpilot call for every event it receives, before its own echoes loop back).
 * Calls are counted, not timed, so the bridge runs in-process (startTestBridge).
 *
 * "Real changes" are counted from the simulator's own state, not from the script: after the users'
 * actions of a phase (synchronous, the simulator runs in this process, so the bridge cannot act in
 * between) and again once the bridge is quiet, the two states are compared. Each contact whose mapped
 * custom fields changed counts 1, each tag added or removed 1, each note created or edited 1, each
 * task created or completed 1: the GHL objects the flow had to change.
 *
 * "Reviews found late": contacts whose Trustpilot review existed when their event was processed but
 * which were written as "no review". The day includes reviews written after the shared listing of our
 * reviews was first read, whose notifications never arrive, each followed by an update of its contact.
 */
import { mappedFieldKeys } from '../src/config/mapping.js';
import { startGhlSimulator, type GhlStore } from '../src/sandbox/ghl/simulator.js';
import { startTrustpilotSimulator } from '../src/sandbox/trustpilot/simulator.js';
import { setupFields } from '../src/workers/setup-fields.js';
import { settle, simulatorEnv, startTestBridge, trustpilotSimulatorEnv } from '../test/helpers/bridge.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { detail, emit, log, marginOf } from './lib/report.js';

const BENCH = 'upstream';
const LOCATION_ID = 'locBenchDay0000000001';
const TOKEN = 'pit-bench-day-0001';
const TP_SECRET = 'tp-bench-webhook-secret';
const CREATES = 20;
const BURSTS = 5;
const BURST_SIZE = 10;
const RESAVES = 10;
const IRRELEVANT_EDITS = 10;
const REVIEWS = 10;
const REVIEW_EDITS = 5;
/** Reviews written after the index's first listing, notifications lost, then their contact updated. */
const LATE_REVIEWS = 10;
const STARS = [1, 2, 3, 4, 5] as const;

const redis = await startRedisServer();
const ghl = await startGhlSimulator({ locations: [{ id: LOCATION_ID, token: TOKEN }] });
const tp = await startTrustpilotSimulator();
tp.addBusinessUnit({ domain: 'acme-widgets.com', displayName: 'Acme Widgets', trustScore: 4.2, stars: 4, totalReviews: 321 });
const bridge = await startTestBridge({
  mode: 'all',
  redisUrl: redis.url,
  env: {
    ...simulatorEnv(ghl, LOCATION_ID, TOKEN),
    ...trustpilotSimulatorEnv(tp),
    TRUSTPILOT_WEBHOOK_SECRET: TP_SECRET,
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    // Shorter than the 2 s default so the day runs in seconds; a burst lands well within it.
    COALESCE_WINDOW_MS: '500',
    LOG_LEVEL: 'warn',
  },
});

interface Phase {
  name: string;
  /** Events users caused (GHL webhooks and Trustpilot notifications), echoes not included. */
  userEvents: number;
  /** User events the flow had to act on, as the script intends them (the figure before real changes were counted). */
  neededAction: number;
  /** GHL objects the bridge changed, counted from the simulator's state (see the file comment). */
  realChanges: number;
  changes: ChangeCounts;
  ghlCalls: number;
  tpCalls: number;
  deliveries: number;
}

interface ChangeCounts {
  contactsWithFieldChanges: number;
  tagsAdded: number;
  tagsRemoved: number;
  notesCreated: number;
  notesEdited: number;
  tasksCreated: number;
  tasksCompleted: number;
}

const phases: Phase[] = [];
/** GHL ids of the custom fields the mapping names (set once setup-fields has run). */
let mappedFieldIds: ReadonlySet<string> = new Set();
const calm = () => settle(bridge, [ghl, tp]);

/** `act` is synchronous on purpose: the state read right after it holds the users' changes and none of the bridge's. */
async function phase(name: string, neededAction: number, act: () => number): Promise<Phase> {
  await calm();
  const ghlBefore = ghl.calls.length;
  const tpBefore = tp.calls.length;
  const deliveriesBefore = ghl.deliveries.length + tp.deliveries.length;
  const userEvents = act();
  const afterUsers = ghl.store.snapshot();
  await calm();
  const changes = diffState(afterUsers, ghl.store.snapshot(), mappedFieldIds);
  const result = {
    name,
    userEvents,
    neededAction,
    realChanges: Object.values(changes).reduce((sum, count) => sum + count, 0),
    changes,
    ghlCalls: ghl.calls.length - ghlBefore,
    tpCalls: tp.calls.length - tpBefore,
    deliveries: ghl.deliveries.length + tp.deliveries.length - deliveriesBefore,
  };
  log(BENCH, `${name}: ${JSON.stringify(result)}`);
  phases.push(result);
  return result;
}

try {
  await setupFields(bridge.container.ghl, LOCATION_ID, bridge.container.mapping, bridge.container.syncDeps.fieldIds);
  ghl.setWebhookUrl(`${bridge.url}/webhooks/ghl`);
  tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${TP_SECRET}`);
  await calm();
  mappedFieldIds = new Set(mappedFieldKeys(bridge.container.mapping).flatMap((key) => ghl.store.findCustomField(LOCATION_ID, key)?.id ?? []));
  const dayStart = { ghl: ghl.calls.length, tp: tp.calls.length };
  const contactIds: string[] = [];

  await phase('creates', CREATES, () => {
    for (let i = 0; i < CREATES; i++) {
      contactIds.push(ghl.userCreateContact(LOCATION_ID, { firstName: `Day${i}`, email: `day${i}@acme-widgets.com`, assignedTo: 'user_owner_1' }).id);
    }
    return CREATES;
  });

  const burstIds = contactIds.slice(0, BURSTS);
  // Runs are counted from the bridge's own sync records (a run no longer always reads the contact).
  const burstStart = Date.now();
  await phase('bursts of updates', BURSTS, () => {
    for (const id of burstIds) for (let i = 0; i < BURST_SIZE; i++) ghl.userUpdateContact(LOCATION_ID, id, { website: `https://acme-widgets.com/p/${i}` });
    return BURSTS * BURST_SIZE;
  });
  const recent = await bridge.container.syncDeps.facts.recentSyncs(200);
  const runsPerBurst = burstIds.map((id) => recent.filter((run) => run.contactId === id && run.at >= burstStart).length);

  const resaves = await phase('unchanged re-saves and irrelevant edits', 0, () => {
    for (let i = 0; i < RESAVES; i++) {
      const id = contactIds[(i + BURSTS) % contactIds.length] ?? '';
      ghl.userUpdateContact(LOCATION_ID, id, { firstName: `Day${(i + BURSTS) % contactIds.length}` });
    }
    for (let i = 0; i < IRRELEVANT_EDITS; i++) ghl.userUpdateContact(LOCATION_ID, contactIds[i] ?? '', { phone: `+1415555${String(1000 + i)}` });
    return RESAVES + IRRELEVANT_EDITS;
  });

  const reviewIds: string[] = [];
  await phase('reviews arriving', REVIEWS, () => {
    for (let i = 0; i < REVIEWS; i++) {
      reviewIds.push(tp.addReview({ stars: STARS[i % STARS.length] ?? 5, title: `Review ${i}`, text: `Review text number ${i}.`, referralEmail: `day${i}@acme-widgets.com`, consumerName: `Day ${i}` }).id);
    }
    return REVIEWS;
  });

  await phase('reviews changing', REVIEW_EDITS, () => {
    for (let i = 0; i < REVIEW_EDITS; i++) tp.updateReview(reviewIds[i] ?? '', { stars: 5, title: `Review ${i} (edited)`, text: 'Sorted out, thanks.' });
    return REVIEW_EDITS;
  });

  // Reviews written a moment before their contact changes, their notifications lost: only the
  // contact's own event can find them, from a listing read after that event.
  tp.setWebhookUrl(undefined);
  const lateReviews: { contactId: string; stars: number }[] = [];
  await phase('reviews written before their contact changes (no notification)', LATE_REVIEWS, () => {
    for (let i = 0; i < LATE_REVIEWS; i++) {
      const index = REVIEWS + i;
      const stars = STARS[i % STARS.length] ?? 5;
      tp.addReview({ stars, title: `Late review ${i}`, text: `Written just before the update ${i}.`, referralEmail: `day${index}@acme-widgets.com`, consumerName: `Day ${index}` });
      lateReviews.push({ contactId: contactIds[index] ?? '', stars });
      ghl.userUpdateContact(LOCATION_ID, contactIds[index] ?? '', { website: `https://acme-widgets.com/late/${i}` });
    }
    return LATE_REVIEWS;
  });
  tp.setWebhookUrl(`${bridge.url}/webhooks/trustpilot?token=${TP_SECRET}`);
  const starsField = ghl.store.findCustomField(LOCATION_ID, 'contact.trustpilot_review_stars')?.id;
  const reviewed = [
    ...reviewIds.map((_, i) => ({ contactId: contactIds[i] ?? '', stars: i < REVIEW_EDITS ? 5 : (STARS[i % STARS.length] ?? 5) })),
    ...lateReviews,
  ];
  const foundLate = reviewed.filter(({ contactId, stars }) => {
    const written = ghl.store.getContact(contactId)?.customFields?.find((field) => field.id === starsField)?.value;
    return Number(written) !== stars || ghl.store.listNotes(contactId).length === 0;
  }).length;

  const total = phases.reduce(
    (sum, item) => ({
      userEvents: sum.userEvents + item.userEvents,
      neededAction: sum.neededAction + item.neededAction,
      realChanges: sum.realChanges + item.realChanges,
      ghlCalls: sum.ghlCalls + item.ghlCalls,
      tpCalls: sum.tpCalls + item.tpCalls,
      deliveries: sum.deliveries + item.deliveries,
    }),
    { userEvents: 0, neededAction: 0, realChanges: 0, ghlCalls: 0, tpCalls: 0, deliveries: 0 },
  );
  const changeTotals = phases.reduce<ChangeCounts>((sum, item) => addCounts(sum, item.changes), emptyCounts());
  const echoes = total.deliveries - total.userEvents;
  const baselineGhl = 3 * total.userEvents;
  const baselineTp = total.userEvents;
  const ghlPerChange = total.ghlCalls / total.realChanges;
  const ghlPerAction = total.ghlCalls / total.neededAction;
  const tpPerEvent = total.tpCalls / total.deliveries;

  emit({ bench: BENCH, figure: 'GHL calls, whole day (bridge vs naive per-event flow)', value: total.ghlCalls, unit: 'calls', baseline: baselineGhl, ratio: total.ghlCalls / baselineGhl });
  emit({ bench: BENCH, figure: 'Trustpilot calls, whole day (bridge vs naive)', value: total.tpCalls, unit: 'calls', baseline: baselineTp, ratio: total.tpCalls / baselineTp });
  emit({ bench: BENCH, figure: 'GHL calls per real change (GHL objects changed)', value: ghlPerChange, unit: 'calls', baseline: baselineGhl / total.realChanges, ratio: ghlPerChange / (baselineGhl / total.realChanges), target: '≤ 1.5', ...marginOf(ghlPerChange, 1.5, 'lower') });
  emit({ bench: BENCH, figure: 'GHL calls per event that needed action (information)', value: ghlPerAction, unit: 'calls', baseline: baselineGhl / total.neededAction, ratio: ghlPerAction / (baselineGhl / total.neededAction) });
  const echoAndResaveCalls = resaves.ghlCalls + resaves.tpCalls;
  emit({ bench: BENCH, figure: 'calls for unchanged re-saves and irrelevant edits', value: echoAndResaveCalls, unit: 'calls', baseline: 4 * resaves.userEvents, target: '= 0', met: echoAndResaveCalls === 0 });
  emit({ bench: BENCH, figure: 'Trustpilot calls per inbound event (echoes included)', value: tpPerEvent, unit: 'calls', baseline: 1, ratio: tpPerEvent, target: '≤ 0.2', ...marginOf(tpPerEvent, 0.2, 'lower') });
  emit({ bench: BENCH, figure: `reviews found late (of ${reviewed.length} contacts with a review, ${LATE_REVIEWS} written after the first listing without a notification)`, value: foundLate, unit: 'contacts', target: '= 0', met: foundLate === 0 });
  const worstBurst = Math.max(...runsPerBurst);
  emit({ bench: BENCH, figure: `runs per burst of ${BURST_SIZE} updates to one contact (worst of ${BURSTS})`, value: worstBurst, unit: 'runs', baseline: BURST_SIZE, ratio: worstBurst / BURST_SIZE, target: '= 1', met: worstBurst === 1 });
  const table = [
    '| phase | user events | events that needed action | real changes (GHL objects changed) | webhook deliveries (echoes incl.) | GHL calls | Trustpilot calls |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...phases.map((item) => `| ${item.name} | ${item.userEvents} | ${item.neededAction} | ${item.realChanges} | ${item.deliveries} | ${item.ghlCalls} | ${item.tpCalls} |`),
    `| **day** | ${total.userEvents} | ${total.neededAction} | ${total.realChanges} | ${total.deliveries} | ${total.ghlCalls} | ${total.tpCalls} |`,
  ];
  table.push(
    '',
    '| phase | contacts with mapped fields changed | tags added | tags removed | notes created | notes edited | tasks created | tasks completed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...[...phases.map((item) => [item.name, item.changes] as const), ['**day**', changeTotals] as const].map(
      ([name, c]) => `| ${name} | ${c.contactsWithFieldChanges} | ${c.tagsAdded} | ${c.tagsRemoved} | ${c.notesCreated} | ${c.notesEdited} | ${c.tasksCreated} | ${c.tasksCompleted} |`,
    ),
  );
  const endpoints = [
    ...countByEndpoint('GHL', ghl.calls.slice(dayStart.ghl)),
    ...countByEndpoint('Trustpilot', tp.calls.slice(dayStart.tp)),
  ];
  table.push('', '| system | endpoint | calls in the day |', '|---|---|---:|', ...endpoints.map(([system, endpoint, count]) => `| ${system} | \`${endpoint}\` | ${count} |`));
  detail(
    BENCH,
    `${table.join('\n')}\n\n` +
      '**Real change** = a GHL object the flow had to change, counted from the simulator\'s state (the state right after the users\' actions of a phase compared with the state once the bridge is quiet): ' +
      'a contact whose mapped custom fields changed counts 1 per phase, each tag added or removed 1, each note created or edited 1, each task created or completed 1. ' +
      'A write that changed nothing (the same value again) is not a real change, so redundant writes show up as calls above 1 per change. ' +
      '**Event that needed action** (the figure this benchmark reported before, kept for information) = a user event the script means the flow to act on: a create, one per burst, a review arriving or changing; it does not say how much each event had to change. ' +
      `Echoes of the bridge's own writes in the day: ${echoes} deliveries (counted in the phase that caused them; they cost the calls shown there, none of their own). ` +
      `Runs per burst contact: ${runsPerBurst.join(', ')}. Baseline = 3 GHL + 1 Trustpilot call per user event (echoes not even counted: a naive flow would loop on them). ` +
      'The "echo" phase is folded into every phase: each write the bridge makes comes back as a signed webhook from the simulator. COALESCE_WINDOW_MS=500 (default 2000), setup-fields run first, Trustpilot cache TTL at its default (6h).',
  );
} finally {
  await bridge.close();
  await tp.close();
  await ghl.close();
  await redis.close();
}

type StoreState = ReturnType<GhlStore['snapshot']>;

function emptyCounts(): ChangeCounts {
  return { contactsWithFieldChanges: 0, tagsAdded: 0, tagsRemoved: 0, notesCreated: 0, notesEdited: 0, tasksCreated: 0, tasksCompleted: 0 };
}

function addCounts(a: ChangeCounts, b: ChangeCounts): ChangeCounts {
  const sum = emptyCounts();
  for (const key of Object.keys(sum) as (keyof ChangeCounts)[]) sum[key] = a[key] + b[key];
  return sum;
}

/** The GHL objects changed between two states of the simulator (see the file comment). */
function diffState(before: StoreState, after: StoreState, fieldIds: ReadonlySet<string>): ChangeCounts {
  const counts = emptyCounts();
  const flat = (state: StoreState) => ({
    contacts: new Map(state.flatMap((location) => location.contacts).map((contact) => [contact.id, contact])),
    notes: new Map(state.flatMap((location) => location.notes).map((note) => [note.id, note])),
    tasks: new Map(state.flatMap((location) => location.tasks).map((task) => [task.id, task])),
  });
  const a = flat(before);
  const b = flat(after);
  const valueOf = (fields: { id: string; value: unknown }[] | undefined, id: string) => JSON.stringify(fields?.find((field) => field.id === id)?.value ?? null);
  for (const [id, contact] of b.contacts) {
    const old = a.contacts.get(id);
    if ([...fieldIds].some((fieldId) => valueOf(old?.customFields, fieldId) !== valueOf(contact.customFields, fieldId))) counts.contactsWithFieldChanges += 1;
    const oldTags = new Set((old?.tags ?? []).map((tag) => tag.toLowerCase()));
    const newTags = new Set(contact.tags.map((tag) => tag.toLowerCase()));
    counts.tagsAdded += [...newTags].filter((tag) => !oldTags.has(tag)).length;
    counts.tagsRemoved += [...oldTags].filter((tag) => !newTags.has(tag)).length;
  }
  for (const [id, note] of b.notes) {
    const old = a.notes.get(id);
    if (!old) counts.notesCreated += 1;
    else if (old.body !== note.body) counts.notesEdited += 1;
  }
  for (const [id, task] of b.tasks) {
    const old = a.tasks.get(id);
    if (!old) counts.tasksCreated += 1;
    if (task.completed && !old?.completed) counts.tasksCompleted += 1;
  }
  return counts;
}

/** Calls per `METHOD /path` with ids folded to `:id`, most first. */
function countByEndpoint(system: string, calls: { method: string; path: string }[]): [string, string, number][] {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const path = call.path
      .split('/')
      .map((segment) => ((/\d/.test(segment) && segment.length >= 8) || /^[A-Za-z0-9]{16,}$/.test(segment) ? ':id' : segment))
      .join('/');
    const key = `${call.method} ${path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([endpoint, count]) => [system, endpoint, count]);
}
