/** Admin roles: who may do what, decided from the Authorization header alone. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { decideAdminAccess, useAdminAuth } from '../../../src/http/plugins/admin-auth.js';

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
const both = { adminToken: ADMIN, viewerToken: VIEWER };

describe('decideAdminAccess', () => {
  test('the admin token may use every method', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      assert.deepEqual(decideAdminAccess(both, method, `Bearer ${ADMIN}`), { outcome: 'allowed', role: 'admin' }, method);
    }
  });

  test('the viewer token may read (GET, HEAD) and nothing else', () => {
    assert.deepEqual(decideAdminAccess(both, 'GET', `Bearer ${VIEWER}`), { outcome: 'allowed', role: 'viewer' });
    assert.deepEqual(decideAdminAccess(both, 'head', `Bearer ${VIEWER}`), { outcome: 'allowed', role: 'viewer' });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      assert.deepEqual(decideAdminAccess(both, method, `Bearer ${VIEWER}`), { outcome: 'forbidden', role: 'viewer' }, method);
    }
  });

  test('no header, another scheme, or an empty bearer is "missing"', () => {
    assert.equal(decideAdminAccess(both, 'GET', undefined).outcome, 'missing');
    assert.equal(decideAdminAccess(both, 'GET', `Basic ${Buffer.from(`x:${ADMIN}`).toString('base64')}`).outcome, 'missing');
    assert.equal(decideAdminAccess(both, 'GET', 'Bearer ').outcome, 'missing');
    assert.equal(decideAdminAccess(both, 'GET', ADMIN).outcome, 'missing', 'the bare token without the scheme');
  });

  test('the scheme name is case-insensitive; the token is not', () => {
    assert.equal(decideAdminAccess(both, 'POST', `bearer ${ADMIN}`).outcome, 'allowed');
    assert.equal(decideAdminAccess(both, 'GET', `Bearer ${ADMIN.toUpperCase()}`).outcome, 'invalid');
  });

  test('an unknown token, a prefix or an extension of a real one is "invalid"', () => {
    assert.equal(decideAdminAccess(both, 'GET', 'Bearer not-a-known-token-at-all').outcome, 'invalid');
    assert.equal(decideAdminAccess(both, 'GET', `Bearer ${ADMIN.slice(0, -1)}`).outcome, 'invalid');
    assert.equal(decideAdminAccess(both, 'GET', `Bearer ${ADMIN}x`).outcome, 'invalid');
    assert.equal(decideAdminAccess(both, 'GET', `Bearer ${ADMIN} ${VIEWER}`).outcome, 'missing', 'two tokens are not a bearer token');
  });

  test('without a viewer token only the admin token works', () => {
    const adminOnly = { adminToken: ADMIN, viewerToken: undefined };
    assert.equal(decideAdminAccess(adminOnly, 'GET', `Bearer ${VIEWER}`).outcome, 'invalid');
    assert.equal(decideAdminAccess(adminOnly, 'GET', `Bearer ${ADMIN}`).outcome, 'allowed');
  });

  test('without an admin token the admin API is disabled, whatever is sent', () => {
    const off = { adminToken: undefined, viewerToken: VIEWER };
    assert.equal(decideAdminAccess(off, 'GET', `Bearer ${VIEWER}`).outcome, 'disabled');
    assert.equal(decideAdminAccess(off, 'GET', undefined).outcome, 'disabled');
    assert.equal(decideAdminAccess({ adminToken: '', viewerToken: undefined }, 'GET', 'Bearer ').outcome, 'disabled');
  });
});

describe('useAdminAuth on a route scope', () => {
  let app: FastifyInstance;

  before(async () => {
    app = Fastify();
    app.get('/open', async () => ({ ok: true }));
    await app.register(async (scope) => {
      useAdminAuth(scope, both);
      scope.get('/admin/thing', async () => ({ ok: true }));
      scope.post('/admin/thing', async () => ({ done: true }));
    });
    await app.ready();
  });

  after(() => app.close());

  test('401 with a Bearer challenge without a token, 401 invalid_token for a wrong one', async () => {
    const missing = await app.inject({ method: 'GET', url: '/admin/thing' });
    assert.equal(missing.statusCode, 401);
    assert.match(String(missing.headers['www-authenticate']), /^Bearer realm="ghl-bridge admin"$/);
    assert.equal(missing.json().code, 'UNAUTHORIZED');
    const wrong = await app.inject({ method: 'GET', url: '/admin/thing', headers: { authorization: 'Bearer wrong-token-0123456789' } });
    assert.equal(wrong.statusCode, 401);
    assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
    assert.ok(!wrong.body.includes(ADMIN) && !wrong.body.includes(VIEWER), 'no token echoed');
  });

  test('viewer reads, is refused actions with 403; admin acts', async () => {
    const read = await app.inject({ method: 'GET', url: '/admin/thing', headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(read.statusCode, 200);
    const act = await app.inject({ method: 'POST', url: '/admin/thing', headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(act.statusCode, 403);
    assert.equal(act.json().code, 'FORBIDDEN');
    const admin = await app.inject({ method: 'POST', url: '/admin/thing', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(admin.statusCode, 200);
    assert.deepEqual(admin.json(), { done: true });
  });

  test('routes outside the scope stay open', async () => {
    const open = await app.inject({ method: 'GET', url: '/open' });
    assert.equal(open.statusCode, 200);
  });

  test('disabled: 404 ADMIN_DISABLED', async () => {
    const off = Fastify();
    await off.register(async (scope) => {
      useAdminAuth(scope, { adminToken: undefined, viewerToken: undefined });
      scope.get('/admin/thing', async () => ({ ok: true }));
    });
    try {
      const reply = await off.inject({ method: 'GET', url: '/admin/thing', headers: { authorization: `Bearer ${ADMIN}` } });
      assert.equal(reply.statusCode, 404);
      assert.equal(reply.json().code, 'ADMIN_DISABLED');
      assert.match(reply.json().message, /ADMIN_TOKEN/);
    } finally {
      await off.close();
    }
  });
});
