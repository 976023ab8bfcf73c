-- changelog.sql - the change log of table rules, for incremental reloads
--
--   psql -d DBNAME -f contrib/postgresql/changelog.sql
--
-- schema.sql includes this file; run it alone to add the log to an
-- existing install (it can be run again: it changes nothing twice).
--
-- Every statement that changes rules writes the patterns it touched
-- into rules_log, with the transaction's id (xid8); TRUNCATE writes one
-- row whose pattern is NULL (every row).  A daemon that holds the rows
-- of one snapshot reads, in its next snapshot, only the patterns whose
-- transactions the first did not see (pg_visible_in_snapshot()) and the
-- rows of those patterns: a change of a few rows costs a few rows, in
-- whatever order concurrent transactions commit.  Without these tables
-- the daemon reads the whole table on every change, as before.
--
-- The log grows with every change: prune it now and then, e.g. daily,
--   SELECT milter_relay_log_prune('1 day');
-- A daemon whose last read is older than what was pruned reads the
-- whole table once (rules_log_horizon says how far the pruning went).
-- The daemon's role needs SELECT on rules_log and rules_log_horizon.

SET client_min_messages = warning;

CREATE TABLE IF NOT EXISTS rules_log (
	xid		xid8 NOT NULL DEFAULT pg_current_xact_id(),
	pattern		text,		-- NULL: every row (TRUNCATE)
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rules_log_xid ON rules_log (xid);

-- the newest transaction id pruned from rules_log (at most one row)
CREATE TABLE IF NOT EXISTS rules_log_horizon (
	xid		xid8 NOT NULL
);

CREATE OR REPLACE FUNCTION milter_relay_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		INSERT INTO rules_log (pattern) VALUES (NULL);
		RETURN NULL;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		INSERT INTO rules_log (pattern)
		    SELECT DISTINCT pattern FROM old_rows;
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') THEN
		INSERT INTO rules_log (pattern)
		    SELECT DISTINCT pattern FROM new_rows;
	END IF;
	RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS rules_log_insert ON rules;
DROP TRIGGER IF EXISTS rules_log_update ON rules;
DROP TRIGGER IF EXISTS rules_log_delete ON rules;
DROP TRIGGER IF EXISTS rules_log_truncate ON rules;
CREATE TRIGGER rules_log_insert AFTER INSERT ON rules
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION milter_relay_log();
CREATE TRIGGER rules_log_update AFTER UPDATE ON rules
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION milter_relay_log();
CREATE TRIGGER rules_log_delete AFTER DELETE ON rules
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION milter_relay_log();
CREATE TRIGGER rules_log_truncate AFTER TRUNCATE ON rules
	FOR EACH STATEMENT EXECUTE FUNCTION milter_relay_log();

-- milter_relay_log_prune - drop log rows older than keep; how many
CREATE OR REPLACE FUNCTION milter_relay_log_prune(keep interval)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	gone	bigint;
	top	xid8;
BEGIN
	LOCK TABLE rules_log_horizon IN EXCLUSIVE MODE;
	WITH d AS (DELETE FROM rules_log WHERE at < now() - keep
	    RETURNING xid)
	SELECT count(*), (SELECT xid FROM d ORDER BY xid DESC LIMIT 1)
	    INTO gone, top FROM d;
	-- a daemon that may not have seen one of them reads every row
	IF gone > 0 THEN
		SELECT greatest(top, (SELECT xid FROM rules_log_horizon
		    ORDER BY xid DESC LIMIT 1)) INTO top;
		DELETE FROM rules_log_horizon;
		INSERT INTO rules_log_horizon VALUES (top);
	END IF;
	RETURN gone;
END
$$;
