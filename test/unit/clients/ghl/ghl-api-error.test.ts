import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GhlApiError, isGhlNotFound, saysNotFound } from '../../../../src/clients/ghl/ghl-api-error.js';
import { UpstreamError } from '../../../../src/clients/http/upstream-error.js';
import { classifyError } from '../../../../src/workers/classify-error.js';

const answer = (status: number, notFound: boolean) =>
  new GhlApiError(new UpstreamError({ system: 'ghl', code: 'UPSTREAM_HTTP', method: 'PUT', path: '/contacts/c1/notes/n1', status }), notFound);

describe('saysNotFound', () => {
  const cases: [string, number, unknown, boolean][] = [
    ['any 404', 404, { statusCode: 404, message: 'Cannot PUT /x' }, true],
    ['400 saying not found', 400, { statusCode: 400, message: 'Contact not found' }, true],
    ['422 saying not found in its message array', 422, { statusCode: 422, message: ['Note not found'], error: 'Unprocessable Entity' }, true],
    ['400 saying does not exist', 400, { statusCode: 400, message: 'Task with id t1 does not exist' }, true],
    ['a 400 about something else', 400, { statusCode: 400, message: 'Bad Request' }, false],
    ['a 422 validation message', 422, { statusCode: 422, message: ['title should not be empty'], error: 'Unprocessable Entity' }, false],
    ['a 401 saying not found is about the token, not the entity', 401, { statusCode: 401, message: 'version header was not found.' }, false],
    ['a 403', 403, { statusCode: 403, message: 'The token does not have access to this location.' }, false],
    ['a body that is not JSON', 400, undefined, false],
  ];
  for (const [name, status, body, expected] of cases) test(name, () => assert.equal(saysNotFound(status, body), expected));
});

describe('a "gone" answer', () => {
  test('is recognised only on a GHL answer that says so', () => {
    assert.equal(isGhlNotFound(answer(422, true)), true);
    assert.equal(isGhlNotFound(answer(422, false)), false);
    assert.equal(isGhlNotFound(new UpstreamError({ system: 'ghl', code: 'UPSTREAM_HTTP', method: 'GET', path: '/x', status: 404 })), false);
  });

  test('still fails for good when nothing expected it, labelled as not found', () => {
    assert.deepEqual(classifyError(answer(400, true)), { action: 'give-up', cause: 'ghl:400:not-found' });
    assert.deepEqual(classifyError(answer(422, false)), { action: 'give-up', cause: 'ghl:422' });
  });
});
