/**
 * `ghl-bridge setup-fields --location ID`: creates the custom fields the mapping writes to that the
 * location lacks (they are never created at start-up). Needs only GHL: no Redis.
 */
import { parseArgs } from 'node:util';
import { GhlClientError } from '../../clients/ghl/ghl-client-error.js';
import { createStaticTokenProvider } from '../../clients/ghl/token-provider.js';
import { UpstreamError } from '../../clients/http/upstream-error.js';
import type { Config } from '../../config/env.js';
import { MappingError, loadMapping, type Mapping } from '../../config/mapping.js';
import { setupFields } from '../../workers/setup-fields.js';
import type { CommandIo } from '../wiring/commands.js';
import { ghlClientFrom } from '../wiring/upstreams.js';

export const SETUP_FIELDS_USAGE = 'usage: ghl-bridge setup-fields --location LOCATION_ID';

/** Returns the process exit code: 0 done, 1 not served / refused by GHL / bad mapping, 2 bad usage. */
export async function runSetupFields(args: string[], config: Config, io: CommandIo): Promise<number> {
  let locationId: string;
  try {
    const { values, positionals } = parseArgs({ args, options: { location: { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
    if (!values.location) throw new Error('--location is required');
    locationId = values.location;
  } catch (error) {
    io.err(`ghl-bridge setup-fields: ${error instanceof Error ? error.message : String(error)}`);
    io.err(SETUP_FIELDS_USAGE);
    return 2;
  }

  // Private-token mode is the one way a location is served without the OAuth token store.
  if (!config.GHL_PRIVATE_TOKEN || !config.GHL_LOCATION_ID) {
    io.err('ghl-bridge setup-fields: no GHL credentials configured: set GHL_PRIVATE_TOKEN and GHL_LOCATION_ID');
    return 1;
  }
  if (locationId !== config.GHL_LOCATION_ID) {
    io.err(`ghl-bridge setup-fields: location ${locationId} is not served by this bridge (GHL_LOCATION_ID is ${config.GHL_LOCATION_ID})`);
    return 1;
  }
  let mapping: Mapping;
  try {
    mapping = loadMapping(config.MAPPING_FILE);
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    io.err(`ghl-bridge setup-fields: ${error.message}`);
    return 1;
  }

  // Needs only GHL: the private token, no shared budget (a handful of calls, run by hand).
  const ghl = ghlClientFrom(config, { tokens: createStaticTokenProvider(config.GHL_LOCATION_ID, config.GHL_PRIVATE_TOKEN) });
  try {
    const result = await setupFields(ghl, locationId, mapping);
    for (const key of result.created) io.out(`created ${key}`);
    for (const key of result.existing) io.out(`exists ${key}`);
    io.out(`${result.created.length} created, ${result.existing.length} already there`);
    return 0;
  } catch (error) {
    if (error instanceof UpstreamError) {
      const why = error.status === undefined ? error.code : `status ${error.status}`;
      const trace = error.requestId ? ` (request id ${error.requestId})` : '';
      io.err(`ghl-bridge setup-fields: GHL refused ${error.method} ${error.path}: ${why}${trace}`);
      return 1;
    }
    if (error instanceof GhlClientError) {
      io.err(`ghl-bridge setup-fields: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await ghl.close();
  }
}
