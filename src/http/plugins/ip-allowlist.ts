/**
 * WEBHOOK_IP_ALLOWLIST for `/webhooks/*`, and who the client is (TRUSTED_PROXIES).
 *
 * The client is the socket peer, unless the peer is a trusted proxy: then it is the right-most
 * X-Forwarded-For hop that is not itself a trusted proxy (hops left of it are whatever the client
 * claimed, so never believed). Fastify's global `trustProxy` is left off on purpose: it would also
 * rewrite `request.hostname` and `request.protocol` for every route; one resolver here serves the
 * allowlist, the public rate limit and HSTS with the same rule, and nothing else changes meaning.
 */
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';
import { errorReply } from '../schemas/common.js';
import { BridgeError } from '../../observability/errors.js';

export class IpRangeError extends BridgeError<'IP_RANGE_INVALID'> {
  constructor(
    readonly variable: string,
    readonly entry: string,
  ) {
    super('IP_RANGE_INVALID', `${variable}: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`);
  }
}

/** A set of addresses and subnets, v4 and v6; IPv4-mapped IPv6 addresses match their IPv4 rules. */
export interface IpSet {
  readonly size: number;
  has(address: string | undefined): boolean;
}

/** Throws IpRangeError (naming `variable`, never other entries) on the first entry that is not an address or CIDR. */
export function createIpSet(entries: readonly string[], variable: string): IpSet {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText, ...rest] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) throw new IpRangeError(variable, entry);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) throw new IpRangeError(variable, entry);
    list.addSubnet(address, prefix, type);
  }
  return {
    size: entries.length,
    has(candidate) {
      // An empty set (no TRUSTED_PROXIES, the default) answers without parsing: this runs on every request.
      if (entries.length === 0) return false;
      const address = candidate === undefined ? undefined : parseAddress(candidate);
      if (address === undefined) return false;
      // BlockList matches ::ffff:a.b.c.d against IPv4 rules (and the reverse) by itself.
      return list.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * An address as it appears in a socket or a forwarded header: `1.2.3.4`, `1.2.3.4:5678`, `::1`,
 * `[::1]:443`, `fe80::1%eth0`. Returns the bare address, or undefined when it is not one.
 */
export function parseAddress(text: string): string | undefined {
  let value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1] !== undefined) value = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  value = value.replace(/%[\w.-]+$/, '');
  return isIP(value) === 0 ? undefined : value;
}

/**
 * The client address of a request that reached us from `peer` with this X-Forwarded-For, or
 * undefined when it cannot be told (no peer, or the nearest untrusted hop is not an address).
 */
export function resolveClientIp(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: IpSet): string | undefined {
  const peerAddress = peer === undefined ? undefined : parseAddress(peer);
  if (peerAddress === undefined || !trusted.has(peerAddress)) return peerAddress;
  const hops = headerList(forwardedFor);
  let client = peerAddress;
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = parseAddress(hops[index] ?? '');
    if (hop === undefined) return undefined;
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  // Every hop is a trusted proxy: the left-most one is as close to the client as we can tell.
  return client;
}

export interface ClientAddressResolver {
  /** The client address (see resolveClientIp), or undefined when it cannot be told. */
  clientIp(request: FastifyRequest): string | undefined;
  /** The request reached us over TLS, or a trusted proxy says the client used https. */
  isHttps(request: FastifyRequest): boolean;
}

export function createClientAddressResolver(trustedProxies: readonly string[]): ClientAddressResolver {
  const trusted = createIpSet(trustedProxies, 'TRUSTED_PROXIES');
  return {
    clientIp: (request) => resolveClientIp(request.socket.remoteAddress, request.headers['x-forwarded-for'], trusted),
    isHttps(request) {
      if ('encrypted' in request.socket && request.socket.encrypted === true) return true;
      // Without trusted proxies (the default) nobody can vouch for https, so the peer address (a system
      // call on a connection's first read) need not be read for every answer.
      if (trusted.size === 0 || !trusted.has(request.socket.remoteAddress)) return false;
      // The right-most value is the one our nearest proxy set (as Fastify's own trustProxy reads it).
      const protocols = headerList(request.headers['x-forwarded-proto']);
      return protocols[protocols.length - 1]?.toLowerCase() === 'https';
    },
  };
}

function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** `/webhooks/...` by the matched route, or by the raw path when no route matched (404s are guarded too). */
export function isWebhookRequest(request: FastifyRequest): boolean {
  // The path is the URL up to `?`, and the prefix holds no `?`: the URL starts with it exactly when the path does.
  return request.url.startsWith('/webhooks/') || (request.routeOptions.url?.startsWith('/webhooks/') ?? false);
}

const WEBHOOK_SOURCES: Record<string, string> = {
  '/webhooks/ghl': 'marketplace',
  '/webhooks/ghl/workflow': 'workflow',
  '/webhooks/trustpilot': 'trustpilot',
  '/webhooks/opinionstage': 'opinionstage',
};

/** The webhook source a request is for, as the webhooks metric labels it ('other' for unknown paths). */
export function webhookSource(request: FastifyRequest): string {
  return WEBHOOK_SOURCES[request.routeOptions.url ?? ''] ?? 'other';
}

export interface IpAllowlistOptions {
  /** WEBHOOK_IP_ALLOWLIST; empty allows every caller. */
  allowlist: readonly string[];
  clientAddress: ClientAddressResolver;
  metrics: Metrics;
}

/**
 * Adds the allowlist as a root `onRequest` hook, so it runs before any route's own hooks and before
 * the body is read: a refused caller cannot make us buffer a megabyte. Register it before the routes.
 */
export function registerIpAllowlist(app: FastifyInstance, options: IpAllowlistOptions): void {
  if (options.allowlist.length === 0) return;
  const allowed = createIpSet(options.allowlist, 'WEBHOOK_IP_ALLOWLIST');
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isWebhookRequest(request)) return;
    const clientIp = options.clientAddress.clientIp(request);
    if (allowed.has(clientIp)) return;
    const source = webhookSource(request);
    options.metrics.countWebhook(source, 'unknown', 'rejected');
    request.log.info({ clientIp: clientIp ?? 'unknown', peer: request.socket.remoteAddress, source }, 'webhook caller not in allowlist');
    return reply.code(403).send(errorReply(403, 'IP_NOT_ALLOWED', 'this address may not call the webhooks (WEBHOOK_IP_ALLOWLIST)'));
  });
}
