/**
 * The admin routes' access rules and request validation, through `buildApp` + `inject` with inert
 * admin dependencies: who gets 401, 403 or 404 ADMIN_DISABLED, on every documented admin route.
 * What the routes do with real jobs is in test/integration/http/admin.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, FIXTURE_LOCATION_ID, inject, type TestApp } from '../../helpers/app.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0001';
const VIEWER_TOKEN = 'viewer-token-for-tests-0001';

/** A JSON object out of a value, for reading fields in assertions. */
function obj(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(value));
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const METHODS = new Map<string, Method>([
  ['get', 'GET'],
  ['post', 'POST'],
  ['put', 'PUT'],
  ['delete', 'DELETE'],
]);

/** Every admin route the app documents, as [method, path with sample values]. */
function adminRoutes(t: TestApp): [Method, string][] {
  const routes: [Method, string][] = [];
  for (const [path, methods] of Object.entries(obj(obj(t.app.swagger()).paths))) {
    if (!path.startsWith('/admin')) continue;
    for (const method of Object.keys(obj(methods))) {
      const known = METHODS.get(method);
      assert.ok(known, `admin routes are GET, POST, PUT or DELETE today; extend this test for ${method} ${path}`);
      const concrete = path.replace('{id}', 'some-job').replace('{contactId}', 'someContact').replace('{locationId}', 'someLocation');
      routes.push([known, concrete.includes('/sync') ? `${concrete}?locationId=${FIXTURE_LOCATION_ID}` : concrete]);
    }
  }
  return routes;
}

function call(t: TestApp, method: Method, url: string, token?: string) {
  const withBody = method === 'POST' || method === 'PUT';
  return inject(t.app, {
    method,
    url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(withBody ? { 'content-type': 'application/json' } : {}) },
    ...(withBody ? { body: JSON.stringify({ all: true }) } : {}),
  });
}

describe('admin roles', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ env: { ADMIN_TOKEN, VIEWER_TOKEN } });
  });
  after(() => t.close());

  test('the app documents the admin routes, each with its auth replies', () => {
    const routes = adminRoutes(t).map(([method, path]) => `${method} ${path}`);
    for (const expected of ['GET /admin/mapping', 'GET /admin/planned', 'GET /admin/jobs', 'GET /admin/dead-letter', 'POST /admin/dead-letter/replay']) {
      assert.ok(routes.includes(expected), `${expected} documented`);
    }
    assert.ok(routes.some((route) => route.startsWith('POST /admin/jobs/some-job/retry')));
    assert.ok(routes.some((route) => route.startsWith('POST /admin/contacts/someContact/sync')));
    const document = obj(t.app.swagger());
    assert.deepEqual(obj(obj(obj(document.components).securitySchemes).bearerAuth), {
      type: 'http',
      scheme: 'bearer',
      description: 'ADMIN_TOKEN (every method) or VIEWER_TOKEN (GET only)',
    });
    for (const [path, methods] of Object.entries(obj(document.paths))) {
      if (!path.startsWith('/admin')) continue;
      for (const [method, operation] of Object.entries(obj(methods))) {
        const op = obj(operation);
        assert.deepEqual(op.tags, ['admin'], `${method} ${path}`);
        assert.deepEqual(op.security, [{ bearerAuth: [] }], `${method} ${path}`);
        for (const status of ['200', '401', '403', '404']) assert.ok(obj(op.responses)[status], `${method} ${path} documents ${status}`);
      }
    }
  });

  test('no token: 401 with a Bearer challenge on every route', async () => {
    for (const [method, path] of adminRoutes(t)) {
      const answer = await call(t, method, path);
      assert.equal(answer.status, 401, `${method} ${path}`);
      assert.match(String(answer.headers['www-authenticate']), /^Bearer /);
      assert.equal(answer.json.code, 'UNAUTHORIZED');
    }
  });

  test('a wrong token: 401, and no token appears in the answer', async () => {
    const answer = await call(t, 'GET', '/admin/mapping', 'wrong-token-0000000000000');
    assert.equal(answer.status, 401);
    assert.ok(!answer.text.includes(ADMIN_TOKEN) && !answer.text.includes(VIEWER_TOKEN));
  });

  test('the viewer token reads every GET route (and HEAD)', async () => {
    const reads = adminRoutes(t).filter(([method]) => method === 'GET');
    assert.ok(reads.length >= 4);
    for (const [, path] of reads) {
      const answer = await call(t, 'GET', path, VIEWER_TOKEN);
      assert.equal(answer.status, 200, `GET ${path}: ${answer.text}`);
    }
    const head = await t.app.inject({ method: 'HEAD', url: '/admin/mapping', headers: { authorization: `Bearer ${VIEWER_TOKEN}` } });
    assert.equal(head.statusCode, 200);
  });

  test('the viewer token gets 403 FORBIDDEN on every action route; the admin token does not', async () => {
    const actions = adminRoutes(t).filter(([method]) => method !== 'GET');
    assert.ok(actions.length >= 3, `action routes: ${JSON.stringify(actions)}`);
    for (const [method, path] of actions) {
      const answer = await call(t, method, path, VIEWER_TOKEN);
      assert.equal(answer.status, 403, `${method} ${path}: ${answer.text}`);
      assert.equal(answer.json.code, 'FORBIDDEN');
    }
    const asAdmin = await call(t, 'POST', '/admin/dead-letter/replay', ADMIN_TOKEN);
    assert.notEqual(asAdmin.status, 401);
    assert.notEqual(asAdmin.status, 403);
  });

  test('bad ids, a missing locationId or an out-of-range limit: 400 VALIDATION_FAILED', async () => {
    const missing = await call(t, 'POST', '/admin/contacts/someContact/sync', ADMIN_TOKEN);
    assert.equal(missing.status, 400);
    assert.equal(missing.json.code, 'VALIDATION_FAILED');
    assert.equal((await call(t, 'POST', `/admin/contacts/bad%20id/sync?locationId=${FIXTURE_LOCATION_ID}`, ADMIN_TOKEN)).status, 400);
    assert.equal((await call(t, 'GET', '/admin/planned?limit=0', ADMIN_TOKEN)).status, 400);
    assert.equal((await call(t, 'GET', '/admin/jobs?state=exploded', ADMIN_TOKEN)).status, 400);
  });

  test('GET /admin/mapping answers the active mapping', async () => {
    const answer = await call(t, 'GET', '/admin/mapping', VIEWER_TOKEN);
    assert.equal(answer.status, 200);
    assert.ok(answer.json.trustpilot && answer.json.opinionStage !== undefined, answer.text);
  });
});

describe('admin API without ADMIN_TOKEN', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ env: { VIEWER_TOKEN } });
  });
  after(() => t.close());

  test('every admin route answers 404 ADMIN_DISABLED, even to the viewer token; the rest of the app is unaffected', async () => {
    for (const [method, path] of adminRoutes(t)) {
      const answer = await call(t, method, path, VIEWER_TOKEN);
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.json.code, 'ADMIN_DISABLED');
    }
    assert.equal((await inject(t.app, { url: '/health' })).status, 200);
  });
});
