-- See LICENSE file for copyright and license details.
-- The table hooks/postgresql inserts into. Create it once, as the owner
-- of the database, and let the hook's role insert, e.g.
--   runuser -u postgres -- psql -q -d makini <hooks/postgresql.sql
--   runuser -u postgres -- psql -q -d makini -c 'GRANT INSERT ON makini_events TO "www-data"'
-- One row per stored event: id is its id, and delivery_key, the hook's
-- MAKINI_DELIVERY_KEY, names the same stored event. A table made for an
-- older version, where delivery_key was the body's hash and UNIQUE, would
-- fold a record's second change into its first; drop that constraint:
--   ALTER TABLE makini_events DROP CONSTRAINT makini_events_delivery_key_key;
CREATE TABLE makini_events (
	id text PRIMARY KEY,
	delivery_key text NOT NULL,
	event text NOT NULL,
	entity text NOT NULL,
	action text NOT NULL,
	body jsonb NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
);
