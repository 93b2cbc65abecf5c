import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routeOpinionStageResponse, trustpilotLocationsFor, type OpinionStageRouteInput, type TrustpilotLocationsInput } from '../../../src/domain/location-routing.js';

describe('routeOpinionStageResponse', () => {
  const base: OpinionStageRouteInput = { itemId: 'itemA', itemLocations: new Map(), connectionItemLocations: new Map(), servedLocations: ['loc1', 'loc2'] };
  const cases: { name: string; input: Partial<OpinionStageRouteInput>; want: ReturnType<typeof routeOpinionStageResponse> }[] = [
    { name: 'the personal link location wins', input: { personalLinkLocationId: 'loc2', itemLocations: new Map([['itemA', 'loc1']]) }, want: { locationId: 'loc2' } },
    { name: 'a personal link of a location not served is passed over', input: { personalLinkLocationId: 'gone', itemLocations: new Map([['itemA', 'loc1']]) }, want: { locationId: 'loc1' } },
    { name: 'the webhook ?location= comes before the env map', input: { webhookLocationId: 'loc2', itemLocations: new Map([['itemA', 'loc1']]) }, want: { locationId: 'loc2' } },
    { name: 'the env map', input: { itemLocations: new Map([['itemA', 'loc2']]) }, want: { locationId: 'loc2' } },
    { name: 'the env map comes before a connection', input: { itemLocations: new Map([['itemA', 'loc1']]), connectionItemLocations: new Map([['itemA', 'loc2']]) }, want: { locationId: 'loc1' } },
    { name: 'the item connection', input: { connectionItemLocations: new Map([['itemA', 'loc2']]) }, want: { locationId: 'loc2' } },
    { name: 'another item in the map does not count', input: { itemLocations: new Map([['itemB', 'loc2']]) }, want: { reason: 'no location for Opinion Stage item itemA' } },
    { name: 'the only served location', input: { servedLocations: ['loc1'] }, want: { locationId: 'loc1' } },
    { name: 'the only served location, listed twice', input: { servedLocations: ['loc1', 'loc1'] }, want: { locationId: 'loc1' } },
    { name: 'several served and nothing names one', input: {}, want: { reason: 'no location for Opinion Stage item itemA' } },
    { name: 'nothing served', input: { servedLocations: [] }, want: { reason: 'no location for Opinion Stage item itemA' } },
    { name: 'a mapped location not served is never written', input: { itemLocations: new Map([['itemA', 'loc9']]) }, want: { reason: 'location loc9 of Opinion Stage item itemA is not served' } },
    { name: 'a mapped location not served is not replaced by the only served one', input: { itemLocations: new Map([['itemA', 'loc9']]), servedLocations: ['loc1'] }, want: { reason: 'location loc9 of Opinion Stage item itemA is not served' } },
    { name: 'a webhook location not served is never written', input: { webhookLocationId: 'loc9' }, want: { reason: 'location loc9 of Opinion Stage item itemA is not served' } },
  ];
  for (const { name, input, want } of cases) {
    test(name, () => assert.deepEqual(routeOpinionStageResponse({ ...base, ...input }), want));
  }
});

describe('trustpilotLocationsFor', () => {
  const base: TrustpilotLocationsInput = { businessUnitId: 'bu-env', defaultBusinessUnitId: 'bu-env', envLocations: [], connectionLocations: new Map(), servedLocations: ['loc1', 'loc2', 'loc3'] };
  const cases: { name: string; input: Partial<TrustpilotLocationsInput>; want: string[] }[] = [
    { name: 'the default unit matches in every served location by default', input: {}, want: ['loc1', 'loc2', 'loc3'] },
    { name: 'TRUSTPILOT_LOCATIONS narrows the default unit', input: { envLocations: ['loc2'] }, want: ['loc2'] },
    { name: 'a listed location not served is dropped', input: { envLocations: ['loc2', 'loc9'] }, want: ['loc2'] },
    { name: 'a connected location is left out of the default', input: { connectionLocations: new Map([['bu-own', ['loc3']]]) }, want: ['loc1', 'loc2'] },
    { name: "a connection's unit matches only in its locations", input: { businessUnitId: 'bu-own', connectionLocations: new Map([['bu-own', ['loc3']]]) }, want: ['loc3'] },
    { name: 'a connection to a location not served matches nowhere', input: { businessUnitId: 'bu-own', connectionLocations: new Map([['bu-own', ['loc9']]]) }, want: [] },
    { name: 'an unknown unit matches nowhere', input: { businessUnitId: 'bu-other' }, want: [] },
    { name: 'without a default unit, an unconnected unit is the environment one', input: { businessUnitId: 'bu-any', defaultBusinessUnitId: undefined, envLocations: ['loc1'] }, want: ['loc1'] },
    { name: 'the default unit also connected adds its connection locations', input: { envLocations: ['loc1'], connectionLocations: new Map([['bu-env', ['loc3']]]) }, want: ['loc1', 'loc3'] },
    { name: 'served order, no repeats', input: { envLocations: ['loc3', 'loc1', 'loc3'] }, want: ['loc1', 'loc3'] },
  ];
  for (const { name, input, want } of cases) {
    test(name, () => assert.deepEqual(trustpilotLocationsFor({ ...base, ...input }), want));
  }
});
