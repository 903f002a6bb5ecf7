/**
 * Webhook endpoints (docs/webhooks.md): the rules of what an account may register, in one place.
 * The admin CLI (`webhook add|ls|rm`), the console's Webhooks page and the JSON API
 * (/api/webhooks) all call these functions.
 *
 * - A URL is https:// on any host, or http:// only on the loopback (127.0.0.0/8, ::1,
 *   localhost): deliveries carry an account's import details, which must not cross a network in
 *   clear, while a receiver on the same machine (or a test) needs no certificate.
 * - Events are a subset of WEBHOOK_EVENTS; none named means all of them.
 * - At most MAX_WEBHOOK_ENDPOINTS endpoints per account.
 * - The secret is `whsec_` and the base64 of 32 random bytes (the Standard Webhooks form). It is
 *   answered once, when the endpoint is added, and kept only to sign deliveries.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../model/webhook.ts';
import type { WebhookDelivery, WebhookEndpoint, WebhookEndpointSummary } from '../store/webhooks.ts';
import type { Store } from '../store/store.ts';
import { hasControlCharacter } from './text.ts';

export const MAX_WEBHOOK_ENDPOINTS = 10;
export const MAX_WEBHOOK_URL_LENGTH = 2000;
/** How many of an endpoint's deliveries the doors show, newest first. */
export const RECENT_DELIVERIES = 50;

export type WebhookRefusal = 'bad-url' | 'insecure-url' | 'bad-events' | 'too-many-endpoints';

export interface Refused {
  readonly ok: false;
  readonly reason: WebhookRefusal;
  /** What the doors answer, as it is. */
  readonly message: string;
}

const refuse = (reason: WebhookRefusal, message: string): Refused => ({ ok: false, reason, message });

/** Whether the host of a URL (as URL.hostname gives it) is this machine's loopback. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The endpoint URL as kept, or why it cannot be one. */
export function webhookUrl(raw: string): { ok: true; url: string } | Refused {
  const text = raw.trim();
  if (text === '' || text.length > MAX_WEBHOOK_URL_LENGTH || hasControlCharacter(text)) {
    return refuse('bad-url', `the URL must be an absolute https:// URL of at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('bad-url', `"${text}" is not an absolute URL`);
  }
  if (url.username !== '' || url.password !== '') return refuse('bad-url', 'the URL must not carry a user name or password');
  if (url.protocol === 'https:') return { ok: true, url: url.href };
  if (url.protocol === 'http:') {
    if (isLoopback(url.hostname)) return { ok: true, url: url.href };
    return refuse('insecure-url', 'http:// is allowed only on the loopback (127.0.0.0/8, ::1, localhost); use https://');
  }
  return refuse('bad-url', `the URL must use https:// (not ${url.protocol.replace(/:$/, '')})`);
}

/** The events named (comma-separated text, or a list); none means every event. */
export function webhookEvents(raw: string | readonly string[] | undefined | null): { ok: true; events: WebhookEvent[] } | Refused {
  const names = (typeof raw === 'string' ? raw.split(',') : raw ?? []).map((e) => e.trim()).filter((e) => e !== '');
  if (names.length === 0) return { ok: true, events: [...WEBHOOK_EVENTS] };
  const unknown = names.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0) return refuse('bad-events', `unknown event ${unknown.map((e) => `"${e}"`).join(', ')}; the events are ${WEBHOOK_EVENTS.join(', ')}`);
  // Kept in the order of WEBHOOK_EVENTS, each once.
  return { ok: true, events: WEBHOOK_EVENTS.filter((e) => names.includes(e)) };
}

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** An endpoint just added, with its secret, which is answered this once. */
export interface AddedWebhook {
  readonly ok: true;
  readonly endpoint: WebhookEndpoint;
  readonly secret: string;
}

export async function addWebhook(
  store: Store, accountId: number, rawUrl: string, rawEvents?: string | readonly string[] | null,
): Promise<AddedWebhook | Refused> {
  const url = webhookUrl(rawUrl);
  if (!url.ok) return url;
  const events = webhookEvents(rawEvents);
  if (!events.ok) return events;
  const secret = newWebhookSecret();
  const endpoint = await store.webhooks.addEndpoint(accountId, { url: url.url, events: events.events, secret }, MAX_WEBHOOK_ENDPOINTS);
  if (endpoint === null) return refuse('too-many-endpoints', `an account can have at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; remove one first`);
  return { ok: true, endpoint, secret };
}

export function listWebhooks(store: Store, accountId: number): Promise<WebhookEndpointSummary[]> {
  return store.webhooks.listEndpoints(accountId);
}

/** Removes the endpoint and its deliveries; false when the account has no such endpoint. */
export function removeWebhook(store: Store, accountId: number, endpointId: number): Promise<boolean> {
  return store.webhooks.removeEndpoint(accountId, endpointId);
}

/** The endpoint and its recent deliveries, newest first; null when the account has no such endpoint. */
export async function webhookDeliveries(
  store: Store, accountId: number, endpointId: number, limit = RECENT_DELIVERIES,
): Promise<{ endpoint: WebhookEndpoint; deliveries: WebhookDelivery[] } | null> {
  const endpoint = await store.webhooks.getEndpoint(accountId, endpointId);
  if (endpoint === null) return null;
  return { endpoint, deliveries: await store.webhooks.listDeliveries(accountId, endpointId, { limit }) };
}

/**
 * Sends a delivery again, with the same webhook-id and body, at the dispatcher's next pass; its
 * retry window starts over. False when the account has no such delivery, or it is being sent now.
 */
export function resendWebhookDelivery(store: Store, accountId: number, deliveryId: number, now = new Date()): Promise<boolean> {
  return store.webhooks.resendDelivery(accountId, deliveryId, now);
}
