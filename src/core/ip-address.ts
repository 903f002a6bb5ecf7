/**
 * IP addresses in the one form the IP check compares: IPv4 as written, IPv6 compressed and in
 * lower case (as the socket reports it), and an IPv4-mapped IPv6 address as plain IPv4. The admin
 * CLI and the console store allow-list entries in this form; the check puts the caller's address
 * in it too.
 */
import { isIP } from 'node:net';

/** The address in canonical form, or null when `input` is not an IPv4 or IPv6 address. */
export function canonicalAddress(input: string): string | null {
  const ip = input.trim();
  const version = isIP(ip);
  if (version === 0) return null;
  if (version === 4) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  try {
    // The URL parser writes IPv6 in its canonical compressed form (RFC 5952).
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase(); // a zone index (fe80::1%eth0), which URLs cannot carry
  }
}

/** Whether the caller's address is on the allow-list, both compared in canonical form. */
export function ipAllowed(ip: string, allowed: readonly string[]): boolean {
  const canonical = (a: string): string => canonicalAddress(a) ?? a.trim().toLowerCase();
  const mine = canonical(ip);
  return allowed.some((a) => canonical(a) === mine);
}
