/**
 * The OAuth2 tokens of a REST client (MailUp's `/Authorization/OAuth/Token`):
 *
 * - the first call logs in with the password grant (client id and secret, username, password);
 * - the access token is renewed with the refresh-token grant shortly before it expires (a tenth of
 *   its lifetime, at most a minute, before), and when the API answers 401 to it;
 * - each refresh hands out a new refresh token, which replaces the old one (the old one is spent);
 * - a refused refresh token (expired, revoked, already used) falls back to the password grant;
 * - calls made at the same time share one token request.
 *
 * A refused password grant is a RestAuthError; the token endpoint's 429 is waited out like the
 * API's (Retry-After, bounded).
 */
import { RestAuthError, TransportError, type RestOperation } from '../errors.ts';
import { sleep } from '../retry.ts';
import { describeNetworkError } from '../transport.ts';
import { retryAfterMs, type RateLimitPolicy } from './http-support.ts';

/** A pair of tokens and when the access token expires. */
export interface RestTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresAt: Date;
}

export interface TokenKeeperOptions {
  readonly tokenUrl: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly username: string;
  readonly password: string;
  /** How the client names itself: in the form (default, as most SDKs) or by HTTP Basic. */
  readonly clientAuth: 'form' | 'basic';
  readonly timeoutMs: number;
  /** Extra attempts after a network failure or a timeout of the password grant. */
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly rateLimit: RateLimitPolicy;
  readonly fetch: typeof globalThis.fetch;
  /** Tokens kept from an earlier run: used until they expire, then refreshed. */
  readonly initialTokens?: RestTokens | undefined;
  /** Told every new pair, e.g. to store the refresh token for the next run. */
  readonly onTokens?: ((tokens: RestTokens) => void) | undefined;
}

type Grant = 'password' | 'refresh_token';

/** The token request was refused; `refused` tells the password grant to take over. */
class GrantRefused extends Error {
  constructor(readonly details: { httpStatus: number; error: string | null; errorDescription: string }) {
    super(details.errorDescription);
  }
}

const TOKEN_OPERATION: RestOperation = 'POST /Authorization/OAuth/Token';

export class TokenKeeper {
  readonly #options: TokenKeeperOptions;
  #tokens: RestTokens | null;
  /** The access token's lifetime as granted, for the renewal margin. */
  #lifetimeMs: number | null = null;
  #inflight: Promise<RestTokens> | null = null;

  constructor(options: TokenKeeperOptions) {
    this.#options = options;
    this.#tokens = options.initialTokens ?? null;
  }

  get tokens(): RestTokens | null {
    return this.#tokens;
  }

  /** A valid access token: the current one, or a renewed one when it is about to expire. */
  async accessToken(signal?: AbortSignal): Promise<string> {
    const tokens = this.#tokens;
    if (tokens !== null && !this.#expiring(tokens)) return tokens.accessToken;
    return (await this.#renew(signal)).accessToken;
  }

  /**
   * After the API refused `refused` with 401: a new access token. When another call has already
   * replaced that token, the replacement is answered without a new request.
   */
  async renewAfterRefusal(refused: string, signal?: AbortSignal): Promise<string> {
    const tokens = this.#tokens;
    if (tokens !== null && tokens.accessToken !== refused && !this.#expiring(tokens)) return tokens.accessToken;
    return (await this.#renew(signal, refused)).accessToken;
  }

  /** Logs in with the password grant now, whatever tokens are held. */
  async logIn(signal?: AbortSignal): Promise<RestTokens> {
    this.#tokens = null;
    return this.#renew(signal);
  }

  #expiring(tokens: RestTokens): boolean {
    const margin = Math.min(60_000, (this.#lifetimeMs ?? 600_000) / 10);
    return Date.now() >= tokens.expiresAt.getTime() - margin;
  }

  /** One token request at a time, shared by every caller that needs it. */
  #renew(signal: AbortSignal | undefined, refused?: string): Promise<RestTokens> {
    if (this.#inflight) return this.#inflight;
    const inflight = this.#obtain(signal, refused).finally(() => {
      if (this.#inflight === inflight) this.#inflight = null;
    });
    this.#inflight = inflight;
    return inflight;
  }

  async #obtain(signal: AbortSignal | undefined, refused: string | undefined): Promise<RestTokens> {
    const held = this.#tokens;
    if (held !== null && held.accessToken !== refused && !this.#expiring(held)) return held;
    if (held !== null) {
      try {
        return this.#keep(await this.#grant('refresh_token', { refresh_token: held.refreshToken }, signal));
      } catch (err) {
        // A spent, expired or revoked refresh token, or a refresh whose answer was lost (the
        // token is spent then too): log in again with the password.
        if (!(err instanceof GrantRefused) && !(err instanceof TransportError)) throw err;
      }
    }
    try {
      return this.#keep(await this.#grant('password', { username: this.#options.username, password: this.#options.password }, signal));
    } catch (err) {
      if (err instanceof GrantRefused) throw new RestAuthError({ operation: TOKEN_OPERATION, grantType: 'password', ...err.details });
      throw err;
    }
  }

  #keep(answer: { tokens: RestTokens; lifetimeMs: number }): RestTokens {
    this.#tokens = answer.tokens;
    this.#lifetimeMs = answer.lifetimeMs;
    try {
      this.#options.onTokens?.(answer.tokens);
    } catch {
      // The caller's bookkeeping must not fail the call that needed the token.
    }
    return answer.tokens;
  }

  /** One grant, with its network retries (password grant) and 429 waits. */
  async #grant(grant: Grant, fields: Record<string, string>, signal: AbortSignal | undefined): Promise<{ tokens: RestTokens; lifetimeMs: number }> {
    const o = this.#options;
    const form = new URLSearchParams({ grant_type: grant, ...fields });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (o.clientAuth === 'basic') {
      const encode = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${encode(o.clientId)}:${encode(o.clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', o.clientId);
      form.set('client_secret', o.clientSecret);
    }
    const body = form.toString();
    let attempts = 0;
    let waits = 0;
    let delayMs = o.retryDelayMs;
    for (;;) {
      attempts++;
      const sentAt = Date.now();
      const timeout = AbortSignal.timeout(o.timeoutMs);
      let status: number;
      let text: string;
      let response: Response;
      try {
        response = await o.fetch(o.tokenUrl, { method: 'POST', headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        status = response.status;
        text = await response.text();
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const failure = timeout.aborted ? 'timeout' : 'network';
        if (grant === 'password' && attempts <= o.retries) {
          await sleep(delayMs, signal);
          delayMs *= 2;
          continue;
        }
        throw new TransportError({
          operation: TOKEN_OPERATION, failure, attempts, httpStatus: null,
          reason: failure === 'timeout' ? `no answer within ${o.timeoutMs} ms` : `cannot reach ${o.tokenUrl.origin}: ${describeNetworkError(err)}`,
        }, { cause: err });
      }
      let parsed: Record<string, unknown> = {};
      try {
        const value: unknown = text.trim() === '' ? {} : JSON.parse(text);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>;
      } catch {
        // Not JSON: described from the text below.
      }
      if (status === 200) {
        const access = parsed.access_token;
        const refresh = parsed.refresh_token;
        const expiresIn = Number(parsed.expires_in);
        if (typeof access !== 'string' || access === '' || typeof refresh !== 'string' || !(expiresIn > 0)) {
          throw new TransportError({
            operation: TOKEN_OPERATION, failure: 'invalid-response', httpStatus: status, attempts,
            reason: 'the token answer lacks access_token, refresh_token or expires_in',
          });
        }
        const lifetimeMs = expiresIn * 1000;
        return { tokens: { accessToken: access, refreshToken: refresh, expiresAt: new Date(sentAt + lifetimeMs) }, lifetimeMs };
      }
      const wait = retryAfterMs(response.headers.get('retry-after'));
      if ((status === 429 || (status === 503 && wait !== null)) && waits < o.rateLimit.retries && (wait ?? 0) <= o.rateLimit.maxWaitMs) {
        waits++;
        await sleep(wait ?? 1000, signal);
        continue;
      }
      const description = [parsed.error_description, parsed.ErrorDescription].find((d): d is string => typeof d === 'string' && d !== '')
        ?? (text.trim() === '' ? `HTTP ${status}` : text.trim().slice(0, 300));
      const details = { httpStatus: status, error: typeof parsed.error === 'string' ? parsed.error : null, errorDescription: description };
      if (status === 400 || status === 401) throw new GrantRefused(details);
      throw new RestAuthError({ operation: TOKEN_OPERATION, grantType: grant, ...details });
    }
  }
}
