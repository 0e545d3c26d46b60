-- The table hooks/postgresql inserts into. Create it once, as the owner
-- of the database, and let the hook's role insert, e.g.
--   runuser -u postgres -- psql -q -d makini <hooks/postgresql.sql
--   runuser -u postgres -- psql -q -d makini -c 'GRANT INSERT ON makini_events TO "www-data"'
CREATE TABLE makini_events (
	id text PRIMARY KEY,
	delivery_key text UNIQUE,
	event text NOT NULL,
	entity text NOT NULL,
	action text NOT NULL,
	body jsonb NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
);
