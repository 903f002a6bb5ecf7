/**
 * HTTP Basic credentials as the WS user and password: the GET/POST bindings of the web service
 * (which have no SOAP header) and the JSON API read them the same way.
 */
import type { Credentials } from './soap-request.ts';

export function basicCredentials(authorization: string | undefined): Credentials | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { User: decoded.slice(0, colon), Password: decoded.slice(colon + 1), encType: null };
}
