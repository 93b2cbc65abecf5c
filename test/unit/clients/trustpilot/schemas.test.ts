import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTrustpilotQueryDate, normalizeTrustpilotDate, trustpilotDateMs } from '../../../../src/clients/trustpilot/dates.js';
import {
  BusinessUnitSchema,
  ConsumerProfileSchema,
  PrivateReviewFilterSchema,
  PrivateReviewSchema,
  PublicReviewSchema,
  TokenResponseSchema,
} from '../../../../src/clients/trustpilot/schemas.js';

// Official examples (developers.trustpilot.com and the Bruno collection README), copied verbatim.
const BUSINESS_UNIT_EXAMPLE = {
  links: [{ href: '<Url for the resource>', method: '<Http method for the resource>', rel: '<Description of the relation>' }],
  id: '507f191e810c19729de860ea',
  displayName: 'Trustpilot',
  name: { identifying: 'trustpilot.com', referring: ['trustpilot.com', 'www.trustpilot.com'] },
  websiteUrl: 'http://www.trustpilot.com',
  country: 'DK',
  numberOfReviews: { total: 14, usedForTrustScoreCalculation: 12, oneStar: 2, twoStars: 3, threeStars: 2, fourStars: 5, fiveStars: 2 },
  status: 'active',
  score: { trustScore: 4.6, stars: 4.5 },
  badFit: true,
};
const REVIEW_EXAMPLE = {
  id: '507f191e810c19729de86aaa',
  stars: 5,
  title: 'My review',
  text: 'This shop is great',
  language: 'da',
  createdAt: '2013-09-07T13:37:00',
  updatedAt: '2013-09-07T13:37:00',
  numberOfLikes: 10,
  isVerified: true,
  companyReply: { text: 'This is our reply.', createdAt: '2013-09-07T13:37:00', updatedAt: '2013-09-07T13:37:00' },
  consumer: { displayLocation: 'Frederiksberg, DK', numberOfReviews: 1, displayName: 'John Doe', id: '507f191e810c19729de8asd4' },
};
const image = { url: '<Url for the image>', width: '<Image width>', height: '<Image height>' };
const CONSUMER_PROFILE_EXAMPLE = {
  city: 'Copenhagen',
  about: "I'm a Trustpilot user",
  displayName: 'Jane Doe',
  locale: 'da-DK',
  gender: 'Female',
  country: 'DK',
  id: '507f191e810c19729de860ea',
  createdAt: '2013-09-07T13:37:00',
  hasImage: true,
  birthYear: 0,
  profileImage: { image24x24: image, image35x35: image, image64x64: image, image73x73: image },
};

describe('dates', () => {
  test('zone-less timestamps are UTC; zoned ones keep their zone', () => {
    assert.equal(trustpilotDateMs('2013-09-07T13:37:00'), Date.UTC(2013, 8, 7, 13, 37, 0));
    assert.equal(trustpilotDateMs('2013-09-07T13:37'), Date.UTC(2013, 8, 7, 13, 37, 0));
    assert.equal(trustpilotDateMs('2013-09-07T13:37:00Z'), Date.UTC(2013, 8, 7, 13, 37, 0));
    assert.equal(trustpilotDateMs('2013-09-07T15:37:00+02:00'), Date.UTC(2013, 8, 7, 13, 37, 0));
    assert.equal(trustpilotDateMs('2013-09-07'), Date.UTC(2013, 8, 7));
    assert.equal(normalizeTrustpilotDate('2017-05-20T09:34:44.000Z'), '2017-05-20T09:34:44.000Z');
  });

  test('what is not a date is undefined', () => {
    for (const value of ['', 'yesterday', '1700000000', '2013-13-45T99:00:00']) assert.equal(trustpilotDateMs(value), undefined, value);
  });

  test('query dates use the documented zone-less UTC form', () => {
    assert.equal(formatTrustpilotQueryDate(Date.UTC(2013, 8, 7, 13, 37, 0, 999)), '2013-09-07T13:37:00');
  });
});

describe('read schemas are loose', () => {
  test('the official examples parse; dates come out as UTC ISO strings', () => {
    const unit = BusinessUnitSchema.parse(BUSINESS_UNIT_EXAMPLE);
    assert.equal(unit.score?.stars, 4.5);
    assert.deepEqual(unit.name?.referring, ['trustpilot.com', 'www.trustpilot.com']);
    const review = PublicReviewSchema.parse(REVIEW_EXAMPLE);
    assert.equal(review.createdAt, '2013-09-07T13:37:00.000Z');
    assert.equal(review.companyReply?.updatedAt, '2013-09-07T13:37:00.000Z');
    const profile = ConsumerProfileSchema.parse(CONSUMER_PROFILE_EXAMPLE);
    assert.equal(profile.profileImage?.image24x24?.width, '<Image width>');
    assert.equal(profile.createdAt, '2013-09-07T13:37:00.000Z');
  });

  test('null for every optional field is accepted; only the id is required', () => {
    const nulls = (keys: string[]) => Object.fromEntries(keys.map((key) => [key, null]));
    const privateKeys = Object.keys(PrivateReviewSchema.shape).filter((key) => key !== 'id');
    const parsed = PrivateReviewSchema.parse({ id: 'r1', ...nulls(privateKeys) });
    assert.equal(parsed.referralEmail, null);
    assert.equal(parsed.createdAt, null);
    assert.ok(BusinessUnitSchema.safeParse({ id: 'b', ...nulls(Object.keys(BusinessUnitSchema.shape).filter((k) => k !== 'id')) }).success);
    assert.ok(PublicReviewSchema.safeParse({ id: 'r', ...nulls(Object.keys(PublicReviewSchema.shape).filter((k) => k !== 'id')) }).success);
    assert.ok(ConsumerProfileSchema.safeParse({ id: 'c', ...nulls(Object.keys(ConsumerProfileSchema.shape).filter((k) => k !== 'id')) }).success);
    assert.equal(PrivateReviewSchema.safeParse({ referenceId: 'x' }).success, false);
    assert.equal(BusinessUnitSchema.safeParse({ id: 42 }).success, false);
  });

  test('the Airbyte private-review fields parse, nested dates included; unknown fields are kept', () => {
    const parsed = PrivateReviewSchema.parse({
      id: 'r1',
      referenceId: 'ghl-1',
      referralEmail: 'ada@example.com',
      companyReply: { text: 'Thanks', createdAt: '2024-01-01T00:00:00Z', updatedAt: null, authorBusinessUserId: 'u1' },
      findReviewer: { isEligible: true, requests: [{ id: 'f1', status: 'pending', created: '2024-01-02T00:00:00', consumerResponse: { email: 'ada@example.com', submittedAt: null } }] },
      businessUnitHistory: [{ businessUnitId: 'b', changeDate: '2020-01-01T00:00:00' }],
      reportData: { source: 'consumer', reasons: [null], createdAt: 'garbage' },
      newField: { a: 1 },
    });
    assert.equal(parsed.findReviewer?.requests?.[0]?.created, '2024-01-02T00:00:00.000Z');
    assert.equal(parsed.reportData?.createdAt, null, 'an unreadable date is null, not a failed read');
    assert.deepEqual(parsed['newField'], { a: 1 });
  });
});

describe('token response', () => {
  test('expires_in as a string (documented) or a number', () => {
    assert.equal(TokenResponseSchema.parse({ access_token: 'a', refresh_token: 'r', expires_in: '359999' }).expires_in, 359_999);
    assert.equal(TokenResponseSchema.parse({ access_token: 'a', expires_in: 3600 }).expires_in, 3600);
    assert.equal(TokenResponseSchema.parse({ access_token: 'a', refresh_token: null, expires_in: '60' }).refresh_token, null);
  });

  test('a missing access token or an unreadable expires_in is refused', () => {
    for (const body of [{ expires_in: '1' }, { access_token: '', expires_in: '1' }, { access_token: 'a', expires_in: 'soon' }, { access_token: 'a', expires_in: -1 }, { access_token: 'a' }]) {
      assert.equal(TokenResponseSchema.safeParse(body).success, false, JSON.stringify(body));
    }
  });
});

describe('private review filter is strict', () => {
  test('accepts the documented subset', () => {
    const filter = { referenceId: 'x', referralEmail: 'a@b.c', page: 1, perPage: 100, orderBy: 'createdat.desc' as const, startDateTime: '2013-09-07T13:37:00' };
    assert.deepEqual(PrivateReviewFilterSchema.parse(filter), filter);
  });

  test('refuses unknown keys and out-of-range values', () => {
    for (const filter of [{ stars: 5 }, { perPage: 0 }, { page: 1.5 }, { orderBy: 'createdat' }, { startDateTime: 'not a date' }]) {
      assert.equal(PrivateReviewFilterSchema.safeParse(filter).success, false, JSON.stringify(filter));
    }
  });
});
