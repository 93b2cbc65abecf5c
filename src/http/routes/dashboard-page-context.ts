/** What every dashboard page beside the overview needs: the served locations, the roles and the answers. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminRole } from '../plugins/admin-auth.js';

export interface DashboardPageContext {
  /** The served locations, read when a page needs them (installs after start-up included). */
  locations(): Promise<readonly string[]>;
  adminToken: string | undefined;
  now: () => number;
  /** The reader's role from the session cookie or a bearer token. */
  roleOf(request: FastifyRequest): AdminRole | undefined;
  /** The role of the session cookie only (forms). */
  sessionRoleOf(request: FastifyRequest): AdminRole | undefined;
  sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply;
  unauthorized(reply: FastifyReply): FastifyReply;
  forbidden(reply: FastifyReply, message: string): FastifyReply;
  badRequest(reply: FastifyReply, message: string): FastifyReply;
}
