-- schema.sql - the table of milter-relay's rules_source = "postgresql:..."
--
--   psql -d DBNAME -f contrib/postgresql/schema.sql
--
-- One row a rule, one column per key of a domains_file line: a row is
-- what the line "pattern key=value ..." of its non-NULL columns would be
-- in a domains_file, and milter-relay checks it with the same parser (a
-- column it does not know is refused, as an unknown key in a file).  So
-- add no other columns: a row the daemon refuses keeps the whole table
-- out until it is fixed (the previous rules stay in force, and the log
-- names the row's pattern).  The CHECKs below refuse at INSERT/UPDATE
-- what SQL can tell is wrong; the daemon checks the rest (host names,
-- duplicates after normalization such as case or IDN).
--
-- tls, tls_match, recipients and recipients_file are the keys of the
-- next-hop TLS policy and recipient validation, auth_file that of the
-- smart hosts' credentials; a daemon that does not know a key yet
-- refuses rows that set it.  An existing table takes the new column with
--   ALTER TABLE rules ADD COLUMN auth_file text
--       CHECK (auth_file !~ '[[:cntrl:]]' AND auth_file <> '');
--
-- Every statement that changes the table sends NOTIFY milter_relay once
-- (FOR EACH STATEMENT, and PostgreSQL folds equal notifications of one
-- transaction into one): the daemons listening reload the whole table.
-- The daemon's role needs SELECT on rules; "milter-relay import --to"
-- needs DELETE and INSERT too.

CREATE TABLE rules (
	pattern		text PRIMARY KEY
	    CHECK (pattern <> '' AND pattern <> '#' AND
		   pattern !~ '[[:space:]"[:cntrl:]]'),
	relay		text CHECK (relay IN ('always', 'trusted', 'deny')),
	smarthost	text CHECK (smarthost ~ '^[^[:space:]"[:cntrl:]]+$'),
	transport	text
	    CHECK (transport ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
	reply		text
	    CHECK (reply ~ '^[45][0-5][0-9] [45]\.[0-9]{1,3}\.[0-9]{1,3}( [ -~]*)?$'
		   AND substr(reply, 1, 1) = substr(reply, 5, 1)
		   AND position('%' in reply) = 0),
	tls		text CHECK (tls !~ '[[:cntrl:]]'),
	tls_match	text CHECK (tls_match !~ '[[:cntrl:]]'),
	recipients	text CHECK (recipients !~ '[[:cntrl:]]'),
	recipients_file	text CHECK (recipients_file !~ '[[:cntrl:]]'),
	-- the path of a file holding "username:password", never the secret
	-- itself: the table is readable by every node's role
	auth_file	text CHECK (auth_file !~ '[[:cntrl:]]' AND auth_file <> '')
);

CREATE FUNCTION milter_relay_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('milter_relay', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER rules_notify
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rules
	FOR EACH STATEMENT EXECUTE FUNCTION milter_relay_notify();

-- The change log that lets each daemon read only the rows that changed.
\ir changelog.sql
