-- A list's default country (ISO 3166 alpha-2, upper case; MailUp's lists have a default prefix):
-- a mobile number without `+` or `00` is read as a national number of this country
-- (src/import/phone-number.ts). NULL, the value of every list made before: such numbers are
-- rejected, never guessed.
ALTER TABLE list ADD COLUMN country TEXT;
