/**
 * Job payloads hold personal data (a survey respondent's name, email and answers): the admin token
 * reads them in full from /admin/dead-letter and /admin/jobs, the viewer token sees identifiers only.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeOnlyAdminDeps } from '../../../src/http/routes/admin.js';
import type { DeadLetterEntry } from '../../../src/queue/dead-letters.js';
import { buildTestApp, inject, type TestApp } from '../../helpers/app.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0001';
const VIEWER_TOKEN = 'viewer-token-for-tests-0001';
const PERSONAL = ['lin@example.com', 'Lin Chen', 'Too slow to answer'];

const ENTRY: DeadLetterEntry = {
  id: 'dl-opinionstage-responses-r1',
  queue: 'opinionstage-responses',
  jobId: 'r1',
  name: 'response',
  data: { locationId: 'locA', itemId: 'item1', responseId: 'resp1', respondent: { email: 'lin@example.com', name: 'Lin Chen' }, answers: { why: 'Too slow to answer' } },
  failedReason: 'the location cannot be told',
  attemptsMade: 1,
  stacktrace: ['Error: Lin Chen lin@example.com'],
  failedAt: 1_700_000_000_000,
};

let t: TestApp;
before(async () => {
  const inert = describeOnlyAdminDeps();
  t = await buildTestApp({ env: { ADMIN_TOKEN, VIEWER_TOKEN }, admin: { deadLetters: { ...inert.deadLetters, list: async () => [ENTRY] } } });
});
after(() => t.close());

const read = (url: string, token: string) => inject(t.app, { url, headers: { authorization: `Bearer ${token}` } });

test('the admin reads payloads in full; the viewer sees identifiers and [redacted]', async () => {
  for (const url of ['/admin/dead-letter', '/admin/jobs?state=failed']) {
    const admin = await read(url, ADMIN_TOKEN);
    const viewer = await read(url, VIEWER_TOKEN);
    assert.equal(admin.status, 200, admin.text);
    assert.equal(viewer.status, 200, viewer.text);
    for (const value of PERSONAL) {
      assert.ok(admin.text.includes(value), `${url}: the admin sees ${value}`);
      assert.ok(!viewer.text.includes(value), `${url}: the viewer does not see ${value}`);
    }
    for (const id of ['locA', 'item1', 'resp1']) assert.ok(viewer.text.includes(id), `${url}: the viewer still sees ${id}`);
    assert.match(viewer.text, /\[redacted\]/);
  }
});
