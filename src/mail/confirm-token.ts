/**
 * Confirm-link tokens: signed, expiring and good for one purpose only.
 *
 * A token is `<claims>.<mac>`, both base64url: the claims are 28 bytes (request, recipient and
 * list ids as 64-bit integers, the expiry in epoch seconds as a 32-bit one) and the mac is
 * HMAC-SHA256 under the installation's secret over the purpose and the claims, so a token minted
 * for anything else can never pass as a confirm link. 82 characters in all: well inside the
 * router's 100-character limit on a path parameter, whatever the ids.
 * The secret is 32 random bytes created once and kept in the store's settings, so links survive
 * restarts and every node of an installation accepts them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';

const PURPOSE = 'confirm-subscription/v1';
const SECRET_SETTING = 'confirm_secret';
const MAC_BYTES = 32;

export interface ConfirmClaims {
  readonly requestId: number;
  readonly recipientId: number;
  readonly listId: number;
  /** After this instant the link is refused. */
  readonly expiresAt: Date;
}

export type TokenCheck =
  | { readonly ok: true; readonly claims: ConfirmClaims }
  /** `invalid`: malformed, cut short or changed; `expired`: genuine but too old. */
  | { readonly ok: false; readonly reason: 'invalid' }
  | { readonly ok: false; readonly reason: 'expired'; readonly claims: ConfirmClaims };

/** The installation's secret: created on first use, then always the same. */
export async function loadConfirmSecret(store: Store): Promise<Buffer> {
  const stored = await store.settings.setSettingIfAbsent(SECRET_SETTING, randomBytes(32).toString('base64url'));
  const secret = Buffer.from(stored, 'base64url');
  if (secret.length < 32) throw new Error(`The stored ${SECRET_SETTING} setting is shorter than 32 bytes.`);
  return secret;
}

const CLAIMS_BYTES = 28;

function mac(secret: Buffer, claims: Buffer): Buffer {
  return createHmac('sha256', secret).update(PURPOSE).update('\n').update(claims).digest();
}

export function signConfirmToken(secret: Buffer, claims: ConfirmClaims): string {
  const bytes = Buffer.alloc(CLAIMS_BYTES);
  bytes.writeBigUInt64BE(BigInt(claims.requestId), 0);
  bytes.writeBigUInt64BE(BigInt(claims.recipientId), 8);
  bytes.writeBigUInt64BE(BigInt(claims.listId), 16);
  bytes.writeUInt32BE(Math.max(0, Math.floor(claims.expiresAt.getTime() / 1000)), 24);
  return `${bytes.toString('base64url')}.${mac(secret, bytes).toString('base64url')}`;
}

const TOKEN = /^([A-Za-z0-9_-]{38})\.([A-Za-z0-9_-]{43})$/;

export function verifyConfirmToken(secret: Buffer, token: string, now: Date = new Date()): TokenCheck {
  const parts = TOKEN.exec(token);
  if (!parts) return { ok: false, reason: 'invalid' };
  const bytes = Buffer.from(parts[1]!, 'base64url');
  const given = Buffer.from(parts[2]!, 'base64url');
  // Canonical encodings only: another spelling of the same bytes is not the token we issued.
  if (bytes.toString('base64url') !== parts[1] || given.toString('base64url') !== parts[2]) return { ok: false, reason: 'invalid' };
  if (bytes.length !== CLAIMS_BYTES || given.length !== MAC_BYTES || !timingSafeEqual(given, mac(secret, bytes))) {
    return { ok: false, reason: 'invalid' };
  }
  const ids = [0, 8, 16].map((offset) => bytes.readBigUInt64BE(offset));
  if (ids.some((id) => id === 0n || id > BigInt(Number.MAX_SAFE_INTEGER))) return { ok: false, reason: 'invalid' };
  const claims: ConfirmClaims = {
    requestId: Number(ids[0]), recipientId: Number(ids[1]), listId: Number(ids[2]),
    expiresAt: new Date(bytes.readUInt32BE(24) * 1000),
  };
  if (now.getTime() >= claims.expiresAt.getTime()) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}
