/**
 * OAuth2 for the REST API (MailUp's `/Authorization/OAuth/Token`): the password grant, the
 * refresh-token grant, and the check of the bearer token on every REST call.
 *
 * - The password grant logs in with the account's WS user and password, checked by the same
 *   authenticate() as the SOAP service (./access.ts): same credential cache, same login throttle
 *   per user and per address, same refusals (disabled account, IP check). A client (id and secret,
 *   ./rest-clients.ts) must name itself too, and may only log in to its own account.
 * - A grant hands out a pair: an access token that lasts `accessTokenSeconds` and a refresh token
 *   that lasts `refreshTokenDays`. Using the refresh token deletes the pair (the access token with
 *   it) and hands out a new one; the used refresh token is refused from then on.
 * - Only SHA-256 hashes of the tokens are stored (256 random bits each; see ./rest-clients.ts on
 *   why a fast hash is enough). Changing the WS password or disabling the account deletes every
 *   pair of the account (./accounts.ts).
 *
 * Each door turns a refusal into its own answer; the REST door into OAuth's JSON errors.
 */
import { randomBytes } from 'node:crypto';
import type { Account } from '../model/records.ts';
import type { RestClient } from '../store/oauth.ts';
import type { Store } from '../store/store.ts';
import { accessRefusalFor, authenticate, type AccessContext, type Caller } from './access.ts';
import { secretHash, secretMatches } from './rest-clients.ts';

export interface TokenPolicy {
  /** Lifetime of an access token (OAUTH_ACCESS_TOKEN_SECONDS). */
  readonly accessTokenSeconds: number;
  /** Lifetime of a refresh token (OAUTH_REFRESH_TOKEN_DAYS). */
  readonly refreshTokenDays: number;
}

/** A token request's parameters as sent (form fields, or the client's from HTTP Basic); null when absent. */
export interface TokenRequest {
  readonly grantType: string | null;
  readonly clientId: string | null;
  readonly clientSecret: string | null;
  readonly username: string | null;
  readonly password: string | null;
  readonly refreshToken: string | null;
}

export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Seconds the access token lasts. */
  readonly expiresIn: number;
  readonly account: Account;
  readonly clientId: string;
}

/** Why no tokens were handed out, in the order the checks run. */
export type TokenRefusal =
  /** grant_type missing, or neither `password` nor `refresh_token`. */
  | 'unsupported-grant-type'
  /** No client id or secret, an unknown client, or a wrong secret. */
  | 'invalid-client'
  /** The password grant without a username or a password. */
  | 'missing-credentials'
  /** Unknown user, wrong password, or a user that is not the client's account. */
  | 'invalid-credentials'
  | 'disabled'
  | 'address-refused'
  /** Too many login attempts wait for their turn (the login throttle); the password was not checked. */
  | 'too-many-attempts'
  | 'missing-refresh-token'
  /** Unknown, used, revoked or expired refresh token, or one given to another client. */
  | 'invalid-refresh-token';

export type TokenOutcome = { readonly ok: true; readonly tokens: IssuedTokens } | { readonly ok: false; readonly reason: TokenRefusal };

const refused = (reason: TokenRefusal): TokenOutcome => ({ ok: false, reason });

/** Answers a token request: a new pair, or why not. */
export async function grantTokens(
  ctx: AccessContext, policy: TokenPolicy, request: TokenRequest, caller: Caller, now: Date = new Date(),
): Promise<TokenOutcome> {
  const grantType = request.grantType?.trim() ?? '';
  if (grantType !== 'password' && grantType !== 'refresh_token') return refused('unsupported-grant-type');
  const client = await checkClient(ctx.store, request.clientId, request.clientSecret);
  if (client === null) return refused('invalid-client');
  return grantType === 'password' ? passwordGrant(ctx, policy, client, request, caller, now) : refreshGrant(ctx.store, policy, client, request, caller, now);
}

/** The client the id names, when the secret is its own. */
async function checkClient(store: Store, clientId: string | null, clientSecret: string | null): Promise<RestClient | null> {
  const id = clientId?.trim().toLowerCase() ?? '';
  if (id === '' || clientSecret === null || clientSecret === '') return null;
  const client = await store.oauth.findRestClient(id);
  return client !== null && secretMatches(clientSecret, client.secretHash) ? client : null;
}

async function passwordGrant(
  ctx: AccessContext, policy: TokenPolicy, client: RestClient, request: TokenRequest, caller: Caller, now: Date,
): Promise<TokenOutcome> {
  const user = request.username?.trim().toLowerCase() ?? '';
  if (user === '' || request.password === null || request.password === '') return refused('missing-credentials');
  // A client logs in to its own account only. Checked before the password, so a client cannot be
  // used to try the passwords of other accounts at all.
  const named = await ctx.store.accounts.findAccountByWsUser(user);
  if (named === null || named.id !== client.accountId) return refused('invalid-credentials');
  const access = await authenticate(ctx, { user, password: request.password }, caller);
  if (!access.ok) {
    switch (access.reason) {
      case 'disabled': case 'address-refused': case 'too-many-attempts': return refused(access.reason);
      default: return refused('invalid-credentials');
    }
  }
  return { ok: true, tokens: await issueTokens(ctx.store, policy, access.account, client.clientId, now) };
}

async function refreshGrant(
  store: Store, policy: TokenPolicy, client: RestClient, request: TokenRequest, caller: Caller, now: Date,
): Promise<TokenOutcome> {
  const token = request.refreshToken?.trim() ?? '';
  if (token === '') return refused('missing-refresh-token');
  const taken = await store.oauth.takeRefreshToken(secretHash(token), client.clientId, now);
  if (taken === null) return refused('invalid-refresh-token');
  const account = await store.accounts.getAccount(taken.accountId);
  if (account === null) return refused('invalid-refresh-token');
  // The refresh token is spent either way: a refused caller logs in again with the password.
  const refusal = accessRefusalFor(account, caller);
  if (refusal !== null) return refused(refusal);
  return { ok: true, tokens: await issueTokens(store, policy, account, client.clientId, now) };
}

async function issueTokens(store: Store, policy: TokenPolicy, account: Account, clientId: string, now: Date): Promise<IssuedTokens> {
  const accessToken = randomBytes(32).toString('base64url');
  const refreshToken = randomBytes(32).toString('base64url');
  await store.oauth.saveTokenPair({
    accessHash: secretHash(accessToken), refreshHash: secretHash(refreshToken), accountId: account.id, clientId,
    accessExpiresAt: new Date(now.getTime() + policy.accessTokenSeconds * 1000),
    refreshExpiresAt: new Date(now.getTime() + policy.refreshTokenDays * 86_400_000),
  });
  return { accessToken, refreshToken, expiresIn: policy.accessTokenSeconds, account, clientId };
}

/** Why a bearer token does not let a call in. */
export type BearerRefusal = 'missing-token' | 'invalid-token' | 'expired-token' | 'disabled' | 'address-refused';

export type BearerOutcome =
  | { readonly ok: true; readonly account: Account; readonly clientId: string }
  | { readonly ok: false; readonly reason: BearerRefusal };

/**
 * The account an access token stands for, checked on every REST call: the token must be known
 * (not revoked, not replaced by a refresh) and unexpired at `now`, and the account must still let
 * the caller in (enabled; the IP check, as for every other door).
 */
export async function authenticateBearer(store: Store, token: string | null, caller: Caller, now: Date = new Date()): Promise<BearerOutcome> {
  const value = token?.trim() ?? '';
  if (value === '') return { ok: false, reason: 'missing-token' };
  const grant = await store.oauth.findAccessToken(secretHash(value));
  if (grant === null) return { ok: false, reason: 'invalid-token' };
  if (grant.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired-token' };
  const refusal = accessRefusalFor(grant.account, caller);
  if (refusal !== null) return { ok: false, reason: refusal };
  return { ok: true, account: grant.account, clientId: grant.clientId };
}

/** Revokes every token of the account (what a password change or disabling does, ./accounts.ts). */
export async function revokeTokens(store: Store, accountId: number): Promise<number> {
  return store.oauth.revokeAccountTokens(accountId);
}

/** Deletes the pairs that can no longer be used; the REST door runs it now and then. */
export async function deleteExpiredTokens(store: Store, now: Date = new Date()): Promise<number> {
  return store.oauth.deleteExpiredTokens(now);
}
