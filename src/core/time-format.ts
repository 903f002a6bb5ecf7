/**
 * The one way this service writes a time for people and for files (docs/console.md, "Times"):
 *
 * - for people (the console, the admin CLI's text, the confirm page): `2026-12-07 14:05:09 CET`,
 *   the wall-clock time in the configured zone (TIME_ZONE) followed by the zone's name: its
 *   abbreviation where one is in common use (CET, CEST, EST, GMT, UTC), else its offset
 *   (`UTC+05:30`);
 * - for programs (CSV exports, the admin CLI's --json): ISO 8601 with the offset of that zone,
 *   `2026-12-07T14:05:09+01:00`.
 *
 * MailUp's wire formats stay where a MailUp protocol prescribes them: the result strings' dates
 * (src/protocol/mailup-message.ts) and the REST API's (src/rest/).
 *
 * Offsets and zone names are looked up with Intl once per quarter of an hour of UTC time (every
 * zone changes its offset on a quarter hour), so a million-row export formats its dates with
 * arithmetic, not a million Intl calls.
 */

export interface TimeFormat {
  readonly timeZone: string;
  /** `2026-12-07 14:05:09 CET`. */
  text(date: Date): string;
  /** `2026-12-07T14:05:09+01:00`. */
  iso(date: Date): string;
}

const QUARTER_HOUR = 15 * 60_000;

interface ZoneAt {
  /** Minutes east of UTC. */
  readonly offsetMinutes: number;
  readonly name: string;
}

const zoneName = (format: Intl.DateTimeFormat, date: Date): string =>
  format.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';

/** `GMT+5:30`, `GMT-05:00` or `GMT` as minutes east of UTC. */
function parseGmtOffset(text: string): number | null {
  if (text === 'GMT' || text === 'UTC') return 0;
  const m = /^GMT([+-])(\d{1,2})(?::(\d{2}))?$/.exec(text);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `+01:00`, `-05:00`, `+05:30`. */
function offsetText(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const cache = new Map<string, TimeFormat>();

/** The format of times in `timeZone` (an IANA name, checked when the configuration is read). */
export function timeFormat(timeZone: string): TimeFormat {
  let format = cache.get(timeZone);
  if (format === undefined) {
    format = makeTimeFormat(timeZone);
    cache.set(timeZone, format);
  }
  return format;
}

function makeTimeFormat(timeZone: string): TimeFormat {
  // en-GB knows the European abbreviations (CET, BST), en-US the American ones (EST, PDT); a zone
  // neither names gets its offset.
  const britishName = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'short' });
  const americanName = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' });
  const offset = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  const zones = new Map<number, ZoneAt>();

  function zoneAt(date: Date): ZoneAt {
    const quarter = Math.floor(date.getTime() / QUARTER_HOUR);
    let zone = zones.get(quarter);
    if (zone === undefined) {
      const at = new Date(quarter * QUARTER_HOUR);
      const offsetMinutes = parseGmtOffset(zoneName(offset, at)) ?? 0;
      const named = [zoneName(britishName, at), zoneName(americanName, at)].find((n) => /^[A-Z]{2,5}$/.test(n));
      zone = { offsetMinutes, name: named ?? (offsetMinutes === 0 ? 'UTC' : `UTC${offsetText(offsetMinutes)}`) };
      if (zones.size > 10_000) zones.clear();
      zones.set(quarter, zone);
    }
    return zone;
  }

  /** The wall-clock fields of `date` in the zone, read from a Date shifted by the offset. */
  function wall(date: Date, zone: ZoneAt): { day: string; time: string } {
    const local = new Date(Math.floor(date.getTime() / 1000) * 1000 + zone.offsetMinutes * 60_000);
    const year = local.getUTCFullYear();
    return {
      day: `${year < 0 ? '-' : ''}${pad(Math.abs(year), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`,
      time: `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`,
    };
  }

  return {
    timeZone,
    text(date) {
      const zone = zoneAt(date);
      const { day, time } = wall(date, zone);
      return `${day} ${time} ${zone.name}`;
    },
    iso(date) {
      const zone = zoneAt(date);
      const { day, time } = wall(date, zone);
      return `${day}T${time}${offsetText(zone.offsetMinutes)}`;
    },
  };
}
