/**
 * Webhook endpoints over the JSON API (docs/webhooks.md), through the core's rules
 * (src/core/webhooks.ts), as the console and the admin CLI:
 *
 * - `POST /api/webhooks` `{ "url", "events"? }`: adds an endpoint; the answer carries its signing
 *   secret, this once.
 * - `GET /api/webhooks`: the account's endpoints (never their secrets) with delivery counts.
 * - `DELETE /api/webhooks/{id}`: removes one, with its deliveries.
 * - `GET /api/webhooks/{id}/deliveries`: its recent deliveries, newest first.
 * - `POST /api/webhooks/{id}/deliveries/{deliveryId}/resend`: sends one again (same webhook-id).
 */
import type { FastifyInstance } from 'fastify';
import {
  addWebhook, listWebhooks, MAX_WEBHOOK_ENDPOINTS, MAX_WEBHOOK_URL_LENGTH, RECENT_DELIVERIES, removeWebhook, resendWebhookDelivery,
  webhookDeliveries,
} from '../core/webhooks.ts';
import { WEBHOOK_EVENTS } from '../model/webhook.ts';
import type { WebhookDelivery, WebhookEndpoint, WebhookEndpointSummary } from '../store/webhooks.ts';
import { apiAccount, ApiError, type ApiDeps } from './deps.ts';
import { AUTH_ERRORS, errors } from './schemas.ts';

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const eventsSchema = { type: 'array', items: { type: 'string', enum: [...WEBHOOK_EVENTS] } } as const;

const endpointProperties = {
  id: { type: 'integer' },
  url: { type: 'string' },
  events: eventsSchema,
  enabled: { type: 'boolean' },
  createdAt: time,
} as const;

const endpointSchema = {
  type: 'object',
  required: ['id', 'url', 'events', 'enabled', 'createdAt', 'deliveries'],
  properties: {
    ...endpointProperties,
    deliveries: {
      type: 'object',
      description: 'How many of its deliveries are pending, delivered and given up.',
      required: ['pending', 'delivered', 'given_up'],
      properties: { pending: { type: 'integer' }, delivered: { type: 'integer' }, given_up: { type: 'integer' } },
    },
  },
} as const;

const deliverySchema = {
  type: 'object',
  required: ['id', 'webhookId', 'event', 'idProcess', 'status', 'attempts', 'responseCode', 'lastError', 'createdAt', 'lastAttemptAt', 'nextAttemptAt', 'deliveredAt'],
  properties: {
    id: { type: 'integer' },
    webhookId: { type: 'string', description: 'The webhook-id header: the same on every attempt.' },
    event: { type: 'string', enum: [...WEBHOOK_EVENTS] },
    idProcess: { type: ['integer', 'null'] },
    status: { type: 'string', enum: ['pending', 'delivered', 'given_up'] },
    attempts: { type: 'integer' },
    responseCode: { type: ['integer', 'null'], description: 'The HTTP status of the last attempt; null when none answered.' },
    lastError: { type: ['string', 'null'] },
    createdAt: time,
    lastAttemptAt: nullableTime,
    nextAttemptAt: { ...nullableTime, description: 'When the next attempt is due; null unless pending.' },
    deliveredAt: nullableTime,
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

const endpointJson = (e: WebhookEndpoint) => ({ id: e.id, url: e.url, events: e.events, enabled: e.enabled, createdAt: e.createdAt.toISOString() });
const summaryJson = (e: WebhookEndpointSummary) => ({ ...endpointJson(e), deliveries: e.deliveries });
const deliveryJson = (d: WebhookDelivery) => ({
  id: d.id, webhookId: d.messageId, event: d.event, idProcess: d.processId, status: d.status, attempts: d.attempts,
  responseCode: d.responseCode, lastError: d.lastError, createdAt: d.createdAt.toISOString(),
  lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null, nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
});

const noEndpoint = (id: number): ApiError => new ApiError(404, `Webhook endpoint ${id} does not exist in this account.`);
const sentence = (message: string): string => `${message[0]!.toUpperCase()}${message.slice(1)}.`;

export function registerWebhookRoutes(app: FastifyInstance, { ctx }: ApiDeps): void {
  const { store } = ctx;

  app.post('/webhooks', {
    schema: {
      summary: 'Add a webhook endpoint; the answer carries its signing secret, shown only this once',
      tags: ['webhooks'],
      body: {
        type: 'object',
        required: ['url'],
        properties: {
          url: { type: 'string', maxLength: MAX_WEBHOOK_URL_LENGTH, description: 'https://…, or http:// on the loopback only (127.0.0.0/8, ::1, localhost).' },
          events: { ...eventsSchema, description: 'The events to receive; omitted or empty: all of them.' },
        },
        additionalProperties: false,
      },
      response: {
        201: {
          type: 'object',
          required: ['id', 'url', 'events', 'enabled', 'createdAt', 'secret'],
          properties: { ...endpointProperties, secret: { type: 'string', description: 'The whsec_ signing secret: keep it, it is not shown again.' } },
        },
        ...errors(400, ...AUTH_ERRORS, 409),
      },
    },
  }, async (request, reply) => {
    const { url, events } = request.body as { url: string; events?: string[] };
    const outcome = await addWebhook(store, apiAccount(request).id, url, events);
    if (!outcome.ok) throw new ApiError(outcome.reason === 'too-many-endpoints' ? 409 : 400, sentence(outcome.message));
    return reply.code(201).send({ ...endpointJson(outcome.endpoint), secret: outcome.secret });
  });

  app.get('/webhooks', {
    schema: {
      summary: `The account's webhook endpoints (at most ${MAX_WEBHOOK_ENDPOINTS}), oldest first, with delivery counts`,
      tags: ['webhooks'],
      response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: endpointSchema } } }, ...errors(...AUTH_ERRORS) },
    },
  }, async (request) => ({ items: (await listWebhooks(store, apiAccount(request).id)).map(summaryJson) }));

  app.delete('/webhooks/:id', {
    schema: {
      summary: 'Remove a webhook endpoint, with its deliveries (pending ones are not sent)',
      tags: ['webhooks'],
      params: idParams,
      response: { 204: { type: 'null', description: 'Removed.' }, ...errors(400, ...AUTH_ERRORS, 404) },
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: number };
    if (!await removeWebhook(store, apiAccount(request).id, id)) throw noEndpoint(id);
    return reply.code(204).send();
  });

  app.get('/webhooks/:id/deliveries', {
    schema: {
      summary: `A webhook endpoint's recent deliveries (the last ${RECENT_DELIVERIES}), newest first`,
      tags: ['webhooks'],
      params: idParams,
      response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: deliverySchema } } }, ...errors(400, ...AUTH_ERRORS, 404) },
    },
  }, async (request) => {
    const { id } = request.params as { id: number };
    const found = await webhookDeliveries(store, apiAccount(request).id, id);
    if (found === null) throw noEndpoint(id);
    return { items: found.deliveries.map(deliveryJson) };
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/resend', {
    schema: {
      summary: 'Send one of the recent deliveries again, with the same webhook-id and body; its retries start over',
      tags: ['webhooks'],
      params: { type: 'object', required: ['id', 'deliveryId'], properties: { id: { type: 'integer', minimum: 1 }, deliveryId: { type: 'integer', minimum: 1 } } },
      response: { 202: { type: 'object', required: ['resent'], properties: { resent: { type: 'boolean', const: true } } }, ...errors(400, ...AUTH_ERRORS, 404, 409) },
    },
  }, async (request, reply) => {
    const owner = apiAccount(request);
    const { id, deliveryId } = request.params as { id: number; deliveryId: number };
    const found = await webhookDeliveries(store, owner.id, id);
    if (found === null) throw noEndpoint(id);
    // The deliveries that can be resent are those the endpoint's listing shows.
    if (!found.deliveries.some((d) => d.id === deliveryId)) {
      throw new ApiError(404, `Delivery ${deliveryId} is not one of the recent deliveries of webhook endpoint ${id}.`);
    }
    if (!await resendWebhookDelivery(store, owner.id, deliveryId)) throw new ApiError(409, `Delivery ${deliveryId} is being sent right now; try again in a moment.`);
    return reply.code(202).send({ resent: true });
  });
}
