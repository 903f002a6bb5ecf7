/**
 * `POST /Authorization/OAuth/Token`, MailUp's OAuth2 token endpoint (spec §2.2): a form with
 * `grant_type=password` (username, password) or `grant_type=refresh_token` (refresh_token), and
 * the client's id and secret in the form or by HTTP Basic. The rules are the core's
 * (src/core/oauth.ts); this file is the wire.
 *
 * Success: 200 `{"access_token","expires_in","refresh_token","token_type":"bearer"}`.
 * Refusals carry OAuth's `error` and `error_description` and MailUp's `ErrorCode`,
 * `ErrorDescription`, `ErrorName`, `ErrorStack`, since clients read one or the other. Statuses:
 * 400 for every refusal of the grant (wrong password, spent refresh token), 401 only for a wrong
 * client sent by HTTP Basic (RFC 6749 §5.2), 429 when login attempts wait their turn. Not 401 for
 * a spent refresh token: mailupy answers a 401 from any URL by refreshing, so it would loop.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { grantTokens, type TokenRefusal, type TokenRequest } from '../core/oauth.ts';
import { ATTEMPTS_RETRY_AFTER_SECONDS } from '../operations/invoke.ts';
import type { RestDeps } from './deps.ts';
import { statusName } from './errors.ts';

/** The token endpoint's path, under which the routes below are registered. */
export const OAUTH_TOKEN_PATH = '/Authorization/OAuth/Token';

const FORM_LIMIT = 64 * 1024;

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

interface OAuthErrorAnswer {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly headers?: Readonly<Record<string, string>>;
}

function sendOAuthError(reply: FastifyReply, answer: OAuthErrorAnswer): FastifyReply {
  return reply.code(answer.status).headers({ ...NO_STORE, ...answer.headers }).type('application/json; charset=utf-8').send(JSON.stringify({
    error: answer.error,
    error_description: answer.description,
    ErrorCode: String(answer.status),
    ErrorDescription: answer.description,
    ErrorName: statusName(answer.status),
    ErrorStack: null,
  }));
}

const invalidRequest = (description: string): OAuthErrorAnswer => ({ status: 400, error: 'invalid_request', description });

function refusalAnswer(reason: TokenRefusal, grantType: string, basic: boolean): OAuthErrorAnswer {
  switch (reason) {
    case 'unsupported-grant-type':
      return grantType === ''
        ? invalidRequest('grant_type is missing; send grant_type=password or grant_type=refresh_token.')
        : { status: 400, error: 'unsupported_grant_type', description: `grant_type "${grantType}" is not supported; send password or refresh_token.` };
    case 'invalid-client':
      return basic
        ? { status: 401, error: 'invalid_client', description: 'Unknown client, or wrong client secret.', headers: { 'www-authenticate': 'Basic realm="OAuth"' } }
        : { status: 400, error: 'invalid_client', description: 'Unknown client, or wrong client secret (send client_id and client_secret, in the form or by HTTP Basic).' };
    case 'missing-credentials': return invalidRequest('The password grant needs username and password.');
    case 'invalid-credentials': return { status: 400, error: 'invalid_grant', description: 'Wrong username or password.' };
    case 'disabled': return { status: 400, error: 'invalid_grant', description: 'The account is disabled.' };
    case 'address-refused': return { status: 400, error: 'invalid_grant', description: "Calls from this address are not allowed by the account's IP check." };
    case 'too-many-attempts':
      return {
        status: 429, error: 'temporarily_unavailable', description: 'Too many login attempts for this user or from this address are waiting their turn; try again later.',
        headers: { 'retry-after': String(ATTEMPTS_RETRY_AFTER_SECONDS) },
      };
    case 'missing-refresh-token': return invalidRequest('The refresh_token grant needs refresh_token.');
    case 'invalid-refresh-token': return { status: 400, error: 'invalid_grant', description: 'The refresh token is not valid: unknown, already used, revoked or expired. Log in again.' };
  }
}

/** The client's id and secret from `Authorization: Basic`, or null when the header is not Basic. */
function basicClient(header: string | undefined): { id: string; secret: string } | null | 'malformed' {
  const m = /^Basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  // RFC 6749 §2.3.1: form-encoded before base64. Values that do not decode are taken as they are.
  const unform = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

export async function oauthRoutes(app: FastifyInstance, { ctx }: RestDeps): Promise<void> {
  const policy = { accessTokenSeconds: ctx.config.oauthAccessTokenSeconds, refreshTokenDays: ctx.config.oauthRefreshTokenDays };

  // Form bodies in this scope only; any other type is answered as OAuth's invalid_request.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, 'not-a-form'));
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) request.log.error({ err }, 'token request failed');
    const description = status === 413 ? `The form is larger than ${FORM_LIMIT / 1024} KB.` : status >= 500 ? 'Internal error.' : err.message;
    return sendOAuthError(reply, { status: status >= 500 ? 500 : status === 413 ? 413 : 400, error: status >= 500 ? 'server_error' : 'invalid_request', description });
  });

  app.post(OAUTH_TOKEN_PATH, async (request: FastifyRequest, reply) => {
    if (!(request.body instanceof URLSearchParams)) {
      return sendOAuthError(reply, invalidRequest('Send the token request as a form (Content-Type: application/x-www-form-urlencoded).'));
    }
    const form = request.body;
    const single = (name: string): string | null | 'repeated' => {
      const values = form.getAll(name);
      return values.length > 1 ? 'repeated' : values[0] ?? null;
    };
    const names = ['grant_type', 'client_id', 'client_secret', 'username', 'password', 'refresh_token'] as const;
    const values = Object.fromEntries(names.map((n) => [n, single(n)])) as Record<(typeof names)[number], string | null | 'repeated'>;
    const repeated = names.find((n) => values[n] === 'repeated');
    if (repeated) return sendOAuthError(reply, invalidRequest(`${repeated} is given more than once.`));
    const basic = basicClient(request.headers.authorization);
    if (basic === 'malformed') return sendOAuthError(reply, invalidRequest('The Authorization header is not Basic base64(client_id:client_secret).'));
    if (basic && ((values.client_id !== null && values.client_id !== basic.id) || (values.client_secret !== null && values.client_secret !== basic.secret))) {
      return sendOAuthError(reply, invalidRequest('The client is named twice, differently: in the form and by HTTP Basic.'));
    }
    const tokenRequest: TokenRequest = {
      grantType: values.grant_type as string | null,
      clientId: basic?.id ?? (values.client_id as string | null),
      clientSecret: basic?.secret ?? (values.client_secret as string | null),
      username: values.username as string | null,
      password: values.password as string | null,
      refreshToken: values.refresh_token as string | null,
    };
    const outcome = await grantTokens(ctx.operations, policy, tokenRequest, { ip: request.ip });
    if (!outcome.ok) {
      const answer = refusalAnswer(outcome.reason, tokenRequest.grantType?.trim() ?? '', basic !== null);
      if (outcome.reason !== 'unsupported-grant-type') request.log.info({ reason: outcome.reason, clientId: tokenRequest.clientId, user: tokenRequest.username }, 'REST token refused');
      return sendOAuthError(reply, answer);
    }
    const { tokens } = outcome;
    request.log.info({ accountId: tokens.account.id, clientId: tokens.clientId, grant: tokenRequest.grantType }, 'REST token issued');
    return reply.code(200).headers(NO_STORE).type('application/json; charset=utf-8').send(JSON.stringify({
      access_token: tokens.accessToken,
      expires_in: tokens.expiresIn,
      refresh_token: tokens.refreshToken,
      token_type: 'bearer',
    }));
  });

  // Any other method on the token URL.
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: OAUTH_TOKEN_PATH,
    handler: async (_request, reply) =>
      sendOAuthError(reply, { status: 405, error: 'invalid_request', description: 'The token endpoint takes POST only.', headers: { allow: 'POST' } }),
  });
}
