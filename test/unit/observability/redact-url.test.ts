import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blankOut, credentialParts, redactCredentialPath, redactCredentialUrl, redactUrl } from '../../../src/observability/redact-url.js';

test('a configured URL shows its origin only', () => {
  assert.equal(redactCredentialUrl('https://hooks.zapier.com/hooks/catch/123/abcdef/?auth=s3cr3t-value'), 'https://hooks.zapier.com/[redacted]');
  assert.equal(redactCredentialUrl('https://collector.example.com/'), 'https://collector.example.com/');
  assert.equal(redactCredentialUrl('not a url'), '[redacted]');
  assert.equal(redactCredentialPath('/?x=1'), '/[redacted]');
});

test('its long parts, raw and decoded, are blanked out of echoed text', () => {
  const parts = credentialParts('https://h.example/services/T0/B0/xoxb%2Fsecret-part?auth=query-secret-1&k=v');
  const echoed = 'called /services/T0/B0/xoxb%2Fsecret-part with auth=query-secret-1, i.e. xoxb/secret-part';
  const blanked = blankOut(echoed, parts);
  for (const secret of ['xoxb%2Fsecret-part', 'xoxb/secret-part', 'query-secret-1']) assert.ok(!blanked.includes(secret), blanked);
  assert.ok(!parts.includes('T0'), 'short parts are too common to blank');
});

test('request URLs keep their path and lose credential-like query values', () => {
  assert.equal(redactUrl('/webhooks/trustpilot?token=abc&x=1'), '/webhooks/trustpilot?token=[Redacted]&x=1');
});
