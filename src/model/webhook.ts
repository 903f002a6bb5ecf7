/** The events a webhook endpoint can subscribe to (docs/webhooks.md). */
export const WEBHOOK_EVENTS = ['import.completed', 'import.failed', 'import.cancelled', 'confirmations.sent'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Where a delivery stands: waiting for its (next) attempt, delivered (a 2xx answer), or given up after the retry window. */
export type DeliveryStatus = 'pending' | 'delivered' | 'given_up';
