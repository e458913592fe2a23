/**
 * The SQL of the schema migrations (data: its text is checksummed into
 * `audit_schema_migrations`, so a shipped version's text never changes). `{{schema}}` stands for
 * the quoted schema name, `{{schema_literal}}` for it as a string literal. What each version does:
 * see `migrations.ts`.
 *
 * @module
 */

export const V1: string = String.raw`
CREATE FUNCTION {{schema}}.audit_refuse_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  RAISE EXCEPTION 'audit table %.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'SGA01';
END
$fn$;

CREATE TABLE {{schema}}.audit_stream (
  stream     text        PRIMARY KEY CHECK (stream ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  created_at timestamptz NOT NULL DEFAULT statement_timestamp()
);

-- body: the record's exact canonical JSON bytes. entry_hash is its RFC 6962 leaf hash, checked
-- here so a row can never disagree with its own bytes. seq is assigned by the writer under the
-- stream lock (never a sequence/bigserial: those have gaps on rollback and are not the chain order).
CREATE TABLE {{schema}}.audit_entry (
  stream     text   NOT NULL,
  seq        bigint NOT NULL CHECK (seq >= 0 AND seq <= 9007199254740991),
  prev_hash  bytea  NOT NULL CHECK (octet_length(prev_hash) = 32),
  entry_hash bytea  NOT NULL,
  body       bytea  NOT NULL CHECK (octet_length(body) BETWEEN 2 AND 1048576),
  PRIMARY KEY (stream, seq),
  CONSTRAINT audit_entry_one_successor UNIQUE (stream, prev_hash),
  CONSTRAINT audit_entry_leaf_hash CHECK (entry_hash = sha256('\x00'::bytea || body)),
  CONSTRAINT audit_entry_genesis CHECK (seq > 0 OR prev_hash = '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
);

-- body: the checkpoint's flattened JWS (UTF-8 bytes, exactly as the log produced them).
CREATE TABLE {{schema}}.audit_checkpoint (
  stream     text        NOT NULL REFERENCES {{schema}}.audit_stream (stream),
  idx        bigint      NOT NULL CHECK (idx >= 0 AND idx <= 9007199254740991),
  size       bigint      NOT NULL CHECK (size >= 0 AND size <= 9007199254740991),
  body       bytea       NOT NULL CHECK (octet_length(body) BETWEEN 2 AND 262144),
  created_at timestamptz NOT NULL DEFAULT statement_timestamp(),
  PRIMARY KEY (stream, idx)
);

-- Refuses records that do not extend their stream's chain: record seq - 1 must exist with
-- entry_hash = prev_hash, and record 0 must belong to a registered stream. Together with the primary
-- key and UNIQUE (stream, prev_hash) the table cannot hold a fork or a gap, whatever a writer does.
-- One statement-level check per INSERT (a transition table), not one function call per row.
CREATE FUNCTION {{schema}}.audit_entry_link() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  bad bigint;
BEGIN
  -- A predecessor inserted by the same statement is checked in the transition table (hash join);
  -- only the first record of a batch needs an index probe into the table.
  SELECT n.seq INTO bad FROM new_rows n
    LEFT JOIN new_rows p ON p.stream = n.stream AND p.seq = n.seq - 1
   WHERE (n.seq > 0 AND p.seq IS NOT NULL AND p.entry_hash <> n.prev_hash)
      OR (n.seq > 0 AND p.seq IS NULL AND NOT EXISTS (
            SELECT 1 FROM {{schema}}.audit_entry e
             WHERE e.stream = n.stream AND e.seq = n.seq - 1 AND e.entry_hash = n.prev_hash))
      OR (n.seq = 0 AND NOT EXISTS (SELECT 1 FROM {{schema}}.audit_stream s WHERE s.stream = n.stream))
   ORDER BY n.seq LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'audit entry % does not extend the chain of its stream', bad USING ERRCODE = 'SGA02';
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_entry_link AFTER INSERT ON {{schema}}.audit_entry
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_entry_link();

-- Checkpoints are numbered contiguously and never commit to fewer records than their predecessor.
CREATE FUNCTION {{schema}}.audit_checkpoint_link() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  IF NEW.idx > 0 THEN
    PERFORM 1 FROM {{schema}}.audit_checkpoint c
      WHERE c.stream = NEW.stream AND c.idx = NEW.idx - 1 AND c.size <= NEW.size;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'audit checkpoint % does not follow its predecessor', NEW.idx USING ERRCODE = 'SGA02';
    END IF;
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_checkpoint_link AFTER INSERT ON {{schema}}.audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_checkpoint_link();

CREATE TRIGGER audit_stream_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_stream
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();
CREATE TRIGGER audit_schema_migrations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
  ON {{schema}}.audit_schema_migrations
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();

-- Conditional append, one round trip. Takes the stream's transaction-level advisory lock (held
-- until the caller's transaction commits), then reads the head: a VOLATILE plpgsql function runs
-- each statement on a fresh READ COMMITTED snapshot, so the head includes every append committed
-- before the lock was granted. Refuses (ok = false, nothing written) when the head is not the
-- expected one. SECURITY INVOKER: the rows are inserted with the caller's own INSERT privilege.
CREATE FUNCTION {{schema}}.audit_append(
    p_stream text, p_expected_size bigint, p_expected_hash bytea,
    p_seq bigint[], p_prev bytea[], p_hash bytea[], p_body bytea[])
  RETURNS TABLE (ok boolean, size bigint, hash bytea)
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  h_seq  bigint;
  h_hash bytea;
BEGIN
  -- Already stale? (Heads only grow, so a committed head that differs stays different.) Refuse
  -- without queueing for the lock behind the writer that moved it.
  SELECT e.seq INTO h_seq FROM {{schema}}.audit_entry e WHERE e.stream = p_stream ORDER BY e.seq DESC LIMIT 1;
  IF coalesce(h_seq, -1) + 1 > p_expected_size THEN
    -- Wait (shared) for the append in flight, if any, so the writer catches up to a head that is not
    -- about to move again; readers of the lock do not block each other.
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('safeguards-audit:' || {{schema_literal}} || ':' || p_stream, 0));
    SELECT e.seq INTO h_seq FROM {{schema}}.audit_entry e WHERE e.stream = p_stream ORDER BY e.seq DESC LIMIT 1;
    RETURN QUERY SELECT false, h_seq + 1, NULL::bytea;
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('safeguards-audit:' || {{schema_literal}} || ':' || p_stream, 0));
  SELECT e.seq, e.entry_hash INTO h_seq, h_hash
    FROM {{schema}}.audit_entry e WHERE e.stream = p_stream ORDER BY e.seq DESC LIMIT 1;
  IF h_seq IS NULL THEN
    h_seq := -1;
    h_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  END IF;
  IF h_seq + 1 IS DISTINCT FROM p_expected_size OR h_hash IS DISTINCT FROM p_expected_hash THEN
    RETURN QUERY SELECT false, h_seq + 1, h_hash;
    RETURN;
  END IF;
  INSERT INTO {{schema}}.audit_entry (stream, seq, prev_hash, entry_hash, body)
    SELECT p_stream, u.seq, u.prev, u.hash, u.body
      FROM unnest(p_seq, p_prev, p_hash, p_body) AS u (seq, prev, hash, body);
  RETURN QUERY SELECT true, p_seq[array_upper(p_seq, 1)] + 1, p_hash[array_upper(p_hash, 1)];
END
$fn$;

-- Conditional checkpoint append: stored only when exactly p_expected_count checkpoints exist.
CREATE FUNCTION {{schema}}.audit_append_checkpoint(
    p_stream text, p_expected_count bigint, p_size bigint, p_body bytea)
  RETURNS TABLE (ok boolean, count bigint)
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  n bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('safeguards-audit-checkpoint:' || {{schema_literal}} || ':' || p_stream, 0));
  SELECT coalesce(max(c.idx) + 1, 0) INTO n FROM {{schema}}.audit_checkpoint c WHERE c.stream = p_stream;
  IF n IS DISTINCT FROM p_expected_count THEN
    RETURN QUERY SELECT false, n;
    RETURN;
  END IF;
  INSERT INTO {{schema}}.audit_checkpoint (stream, idx, size, body) VALUES (p_stream, n, p_size, p_body);
  RETURN QUERY SELECT true, n + 1;
END
$fn$;

REVOKE ALL ON FUNCTION {{schema}}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_append_checkpoint(text, bigint, bigint, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_refuse_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_entry_link() FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_checkpoint_link() FROM PUBLIC;
`

// The link trigger of V1 cost time in proportion to the whole table: the transition table has no
// statistics, so PostgreSQL planned its NOT EXISTS probe of audit_entry as a hashed subplan, a
// sequential scan of every stored record on every INSERT (8 ms per append at 20,000 records, and
// growing). Same rule, checked in one pass and by index only: each new row is compared with the
// previous new row of its stream (lag over the rows sorted by seq); a row whose predecessor is not
// in the statement (the first of a batch) looks it up by primary key, as a scalar subquery, which
// is never hashed. Sequence numbers are unique within a statement (the primary key is checked
// before AFTER triggers fire), so "the previous new row has seq - 1" is exactly "the predecessor
// was inserted by this statement".
export const V2: string = `
CREATE OR REPLACE FUNCTION {{schema}}.audit_entry_link() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  bad bigint;
BEGIN
  SELECT x.seq INTO bad FROM (
      SELECT n.stream, n.seq, n.prev_hash,
             lag(n.seq) OVER w AS p_seq, lag(n.entry_hash) OVER w AS p_hash
        FROM new_rows n WINDOW w AS (PARTITION BY n.stream ORDER BY n.seq)) x
   WHERE CASE
           WHEN x.seq = 0 THEN (SELECT true FROM {{schema}}.audit_stream s WHERE s.stream = x.stream) IS NULL
           WHEN x.p_seq = x.seq - 1 THEN x.p_hash <> x.prev_hash
           ELSE (SELECT e.entry_hash FROM {{schema}}.audit_entry e
                  WHERE e.stream = x.stream AND e.seq = x.seq - 1) IS DISTINCT FROM x.prev_hash
         END
   ORDER BY x.seq LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'audit entry % does not extend the chain of its stream', bad USING ERRCODE = 'SGA02';
  END IF;
  RETURN NULL;
END
$fn$;

REVOKE ALL ON FUNCTION {{schema}}.audit_entry_link() FROM PUBLIC;
`

// Schema version 2 serialised writers with pg_advisory_xact_lock on a key anyone could compute.
// Advisory locks need no privilege at all, and the keys held are listed to every role in pg_locks
// (so a secret key would not stay secret either): any role that may connect could take the key and
// hang every writer. Version 3 locks a row instead. SELECT … FOR UPDATE (and every other row lock)
// needs the UPDATE privilege on the table, which only writer roles hold on audit_stream_lock (the
// append-only trigger refuses an actual UPDATE even to them); a role with SELECT only may take
// ACCESS SHARE on the table, which conflicts with nothing the writers take. Every lock wait of an
// append is bounded: the functions set lock_timeout for their own transaction (SET LOCAL, through
// set_config(…, true)) to p_lock_timeout_ms, so a held lock fails the append with SQLSTATE 55P03
// instead of hanging it. The functions are recreated with that extra parameter (DEFAULT 5000, so a
// caller of version 2 still works); the roles that could execute them, and only those, get the new
// ones and the lock table's privileges, so existing deployments need nothing but migrate().
export const V3: string = String.raw`
CREATE TABLE {{schema}}.audit_stream_lock (
  stream text NOT NULL REFERENCES {{schema}}.audit_stream (stream),
  scope  text NOT NULL CHECK (scope IN ('entries', 'checkpoints')),
  PRIMARY KEY (stream, scope)
);

CREATE TRIGGER audit_stream_lock_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_stream_lock
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();

INSERT INTO {{schema}}.audit_stream_lock (stream, scope)
  SELECT s.stream, x.scope FROM {{schema}}.audit_stream s CROSS JOIN (VALUES ('entries'), ('checkpoints')) AS x (scope);

-- Every stream registered from now on gets its two lock rows in the same statement. SECURITY
-- INVOKER: the writer that registers the stream inserts them with its own INSERT privilege.
CREATE FUNCTION {{schema}}.audit_stream_lock_rows() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO {{schema}}.audit_stream_lock (stream, scope) VALUES (NEW.stream, 'entries'), (NEW.stream, 'checkpoints');
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_stream_lock_rows AFTER INSERT ON {{schema}}.audit_stream
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_stream_lock_rows();

-- Renamed, not dropped yet: their grants say who may append (the DO block below).
ALTER FUNCTION {{schema}}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[]) RENAME TO audit_append_v2;
ALTER FUNCTION {{schema}}.audit_append_checkpoint(text, bigint, bigint, bytea) RENAME TO audit_append_checkpoint_v2;

-- Conditional append, one round trip, as in version 1, with the stream's lock row in place of the
-- advisory lock: FOR UPDATE to append, FOR KEY SHARE (which only FOR UPDATE blocks) for a stale
-- writer waiting for the append in flight. A VOLATILE plpgsql function runs each statement on a
-- fresh READ COMMITTED snapshot, so the head read after the lock includes every append committed
-- before the lock was granted.
CREATE FUNCTION {{schema}}.audit_append(
    p_stream text, p_expected_size bigint, p_expected_hash bytea,
    p_seq bigint[], p_prev bytea[], p_hash bytea[], p_body bytea[],
    p_lock_timeout_ms integer DEFAULT 5000)
  RETURNS TABLE (ok boolean, size bigint, hash bytea)
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  h_seq  bigint;
  h_hash bytea;
  caller_lock_timeout text := current_setting('lock_timeout');
BEGIN
  IF p_lock_timeout_ms IS NULL OR p_lock_timeout_ms < 1 THEN
    RAISE EXCEPTION 'lock timeout must be at least 1 ms' USING ERRCODE = '22023';
  END IF;
  PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
  -- Already stale? (Heads only grow, so a committed head that differs stays different.)
  SELECT e.seq INTO h_seq FROM {{schema}}.audit_entry e WHERE e.stream = p_stream ORDER BY e.seq DESC LIMIT 1;
  IF coalesce(h_seq, -1) + 1 > p_expected_size THEN
    -- Wait (shared) for the append in flight, if any, so the writer catches up to a head that is not
    -- about to move again; stale writers do not block each other.
    PERFORM 1 FROM {{schema}}.audit_stream_lock l WHERE l.stream = p_stream AND l.scope = 'entries' FOR KEY SHARE;
    SELECT e.seq INTO h_seq FROM {{schema}}.audit_entry e WHERE e.stream = p_stream ORDER BY e.seq DESC LIMIT 1;
    PERFORM set_config('lock_timeout', caller_lock_timeout, true);
    RETURN QUERY SELECT false, h_seq + 1, NULL::bytea;
    RETURN;
  END IF;
  PERFORM 1 FROM {{schema}}.audit_stream_lock l WHERE l.stream = p_stream AND l.scope = 'entries' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit stream % is not registered', p_stream USING ERRCODE = 'SGA02';
  END IF;
  SELECT e.seq, e.entry_hash INTO h_seq, h_hash
    FROM {{schema}}.audit_entry e WHERE e.stream = p_stream ORDER BY e.seq DESC LIMIT 1;
  IF h_seq IS NULL THEN
    h_seq := -1;
    h_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  END IF;
  IF h_seq + 1 IS DISTINCT FROM p_expected_size OR h_hash IS DISTINCT FROM p_expected_hash THEN
    PERFORM set_config('lock_timeout', caller_lock_timeout, true);
    RETURN QUERY SELECT false, h_seq + 1, h_hash;
    RETURN;
  END IF;
  INSERT INTO {{schema}}.audit_entry (stream, seq, prev_hash, entry_hash, body)
    SELECT p_stream, u.seq, u.prev, u.hash, u.body
      FROM unnest(p_seq, p_prev, p_hash, p_body) AS u (seq, prev, hash, body);
  PERFORM set_config('lock_timeout', caller_lock_timeout, true);
  RETURN QUERY SELECT true, p_seq[array_upper(p_seq, 1)] + 1, p_hash[array_upper(p_hash, 1)];
END
$fn$;

-- Conditional checkpoint append under the stream's checkpoint lock row (records are not behind it).
CREATE FUNCTION {{schema}}.audit_append_checkpoint(
    p_stream text, p_expected_count bigint, p_size bigint, p_body bytea,
    p_lock_timeout_ms integer DEFAULT 5000)
  RETURNS TABLE (ok boolean, count bigint)
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  n bigint;
  caller_lock_timeout text := current_setting('lock_timeout');
BEGIN
  IF p_lock_timeout_ms IS NULL OR p_lock_timeout_ms < 1 THEN
    RAISE EXCEPTION 'lock timeout must be at least 1 ms' USING ERRCODE = '22023';
  END IF;
  PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
  PERFORM 1 FROM {{schema}}.audit_stream_lock l WHERE l.stream = p_stream AND l.scope = 'checkpoints' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit stream % is not registered', p_stream USING ERRCODE = 'SGA02';
  END IF;
  SELECT coalesce(max(c.idx) + 1, 0) INTO n FROM {{schema}}.audit_checkpoint c WHERE c.stream = p_stream;
  IF n IS DISTINCT FROM p_expected_count THEN
    PERFORM set_config('lock_timeout', caller_lock_timeout, true);
    RETURN QUERY SELECT false, n;
    RETURN;
  END IF;
  INSERT INTO {{schema}}.audit_checkpoint (stream, idx, size, body) VALUES (p_stream, n, p_size, p_body);
  PERFORM set_config('lock_timeout', caller_lock_timeout, true);
  RETURN QUERY SELECT true, n + 1;
END
$fn$;

REVOKE ALL ON FUNCTION {{schema}}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_append_checkpoint(text, bigint, bigint, bytea, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_stream_lock_rows() FROM PUBLIC;

-- Every role that could append under version 2 (EXECUTE on its functions) can append under
-- version 3 without running grantAppRole again: the lock table's privileges and the new functions.
DO $do$
DECLARE
  w text;
BEGIN
  FOR w IN
    SELECT DISTINCT a.grantee::regrole::text
      FROM pg_catalog.pg_proc p CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
     WHERE p.oid IN ('{{schema}}.audit_append_v2(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[])'::regprocedure,
                     '{{schema}}.audit_append_checkpoint_v2(text, bigint, bigint, bytea)'::regprocedure)
       AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0 AND a.grantee <> p.proowner
  LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON TABLE {{schema}}.audit_stream_lock TO %s', w);
    EXECUTE format('GRANT EXECUTE ON FUNCTION
      {{schema}}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[], integer),
      {{schema}}.audit_append_checkpoint(text, bigint, bigint, bytea, integer) TO %s', w);
  END LOOP;
END
$do$;

DROP FUNCTION {{schema}}.audit_append_v2(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[]);
DROP FUNCTION {{schema}}.audit_append_checkpoint_v2(text, bigint, bigint, bytea);
`

// Query keys (issue 16): the record body is bytea and convert_from is only STABLE, so PostgreSQL
// refuses an expression index over it. Version 4 keeps the keys a query narrows by in a table of
// their own, audit_entry_key, one row per (record, key): kind 'p' for the event's patient, 'a' for
// the who of each agent (once per distinct who). Its primary key (stream, kind, value, seq) is the
// index: a patient's or a user's records are one range scan, in seq order. An AFTER INSERT
// statement trigger fills it from the inserted rows' JSON in the same transaction as the append,
// whoever inserts them, so the table is exactly as complete as audit_entry (a failed append leaves
// no key rows; no separate watermark to keep). The trigger function is SECURITY DEFINER (the owner
// inserts the keys): writer roles need no privilege on the key table, so they cannot forge keys.
// The keys are derived data, append-only like the rest; existing records are keyed by this
// migration (same extraction, one INSERT … SELECT). A body that is not JSON cannot be stored by the
// log (it writes canonical JSON of validated events, whose strings are printable ASCII), so the
// extraction does not guard against one: such an insert fails, as would the migration.
export const V4: string = String.raw`
CREATE TABLE {{schema}}.audit_entry_key (
  stream text   NOT NULL,
  kind   "char" NOT NULL CHECK (kind IN ('p', 'a')),
  value  text   NOT NULL,
  seq    bigint NOT NULL,
  PRIMARY KEY (stream, kind, value, seq)
);

CREATE TRIGGER audit_entry_key_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {{schema}}.audit_entry_key
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_refuse_change();

-- The keys of one record body: its event's patient, and the distinct who of its agents. No SET
-- clause, so PostgreSQL inlines it into the statements that call it (a per-row call with a SET
-- clause doubled the cost of an append); those pin search_path themselves, and the names it uses
-- are schema-qualified.
CREATE FUNCTION {{schema}}.audit_record_keys(p_body bytea) RETURNS TABLE (kind "char", value text)
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  WITH e AS (SELECT pg_catalog.convert_from(p_body, 'UTF8')::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'event' AS ev)
  SELECT 'p'::"char", e.ev OPERATOR(pg_catalog.->>) 'patient' FROM e
   WHERE pg_catalog.jsonb_typeof(e.ev OPERATOR(pg_catalog.->) 'patient') = 'string'
  UNION
  SELECT 'a'::"char", a OPERATOR(pg_catalog.->>) 'who'
    FROM e, pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(e.ev OPERATOR(pg_catalog.->) 'agents') = 'array'
                                 THEN e.ev OPERATOR(pg_catalog.->) 'agents' ELSE '[]'::pg_catalog.jsonb END) a
   WHERE pg_catalog.jsonb_typeof(a OPERATOR(pg_catalog.->) 'who') = 'string'
$fn$;

CREATE FUNCTION {{schema}}.audit_entry_keys() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO {{schema}}.audit_entry_key (stream, kind, value, seq)
    SELECT n.stream, k.kind, k.value, n.seq FROM new_rows n, {{schema}}.audit_record_keys(n.body) k;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_entry_keys AFTER INSERT ON {{schema}}.audit_entry
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.audit_entry_keys();

INSERT INTO {{schema}}.audit_entry_key (stream, kind, value, seq)
  SELECT e.stream, k.kind, k.value, e.seq FROM {{schema}}.audit_entry e, {{schema}}.audit_record_keys(e.body) k;

-- Server-built append: the writer sends its events (canonical JSON), the recorded time and the head
-- it knows; under the stream's lock the function reads the head, builds each record exactly as the
-- log does ({"event":…,"prev":"…","recorded":"…","seq":…,"stream":"…","v":1}, RFC 8785 order) with
-- its leaf hash, inserts them and returns the hashes of the records the writer had not seen and
-- of the new ones (concatenated). One autocommit statement: no round trip while the lock is held,
-- and never a refusal for a moved head. ok = false (nothing written) only when the writer's head
-- is not in the stored log at all. The writer recomputes the records from what it sent and
-- compares the hashes, so a server that built anything else is caught.
CREATE FUNCTION {{schema}}.audit_append_events(
    p_stream text, p_known bigint, p_known_hash bytea, p_events bytea[], p_recorded text,
    p_lock_timeout_ms integer DEFAULT 5000)
  RETURNS TABLE (ok boolean, size bigint, missed bytea, hashes bytea)
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  caller_lock_timeout text := current_setting('lock_timeout');
  m_first bigint;
  m_last bigint;
  m_n bigint;
  m_all bytea;
  tail bytea;
  head bytea;
  n_size bigint;
  seqs bigint[] := '{}';
  prevs bytea[] := '{}';
  hs bytea[] := '{}';
  bodies bytea[] := '{}';
  all_h bytea := ''::bytea;
  body bytea;
  h bytea;
BEGIN
  IF p_lock_timeout_ms IS NULL OR p_lock_timeout_ms < 1 THEN
    RAISE EXCEPTION 'lock timeout must be at least 1 ms' USING ERRCODE = '22023';
  END IF;
  IF p_recorded IS NULL OR p_recorded !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
     OR p_known IS NULL OR p_known < 0 OR octet_length(p_known_hash) IS DISTINCT FROM 32 THEN
    RAISE EXCEPTION 'malformed append' USING ERRCODE = '22023';
  END IF;
  PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
  PERFORM 1 FROM {{schema}}.audit_stream_lock l WHERE l.stream = p_stream AND l.scope = 'entries' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit stream % is not registered', p_stream USING ERRCODE = 'SGA02';
  END IF;
  SELECT min(e.seq), max(e.seq), count(*), string_agg(e.entry_hash, ''::bytea ORDER BY e.seq)
    INTO m_first, m_last, m_n, m_all
    FROM {{schema}}.audit_entry e WHERE e.stream = p_stream AND e.seq >= p_known - 1;
  IF (m_n > 0 AND (m_first <> greatest(p_known - 1, 0) OR m_last - m_first + 1 <> m_n))
     OR (p_known > 0 AND (m_n = 0 OR substring(m_all from 1 for 32) <> p_known_hash)) THEN
    PERFORM set_config('lock_timeout', caller_lock_timeout, true);
    RETURN QUERY SELECT false, m_last + 1, NULL::bytea, NULL::bytea;
    RETURN;
  END IF;
  tail := CASE WHEN p_known > 0 THEN substring(m_all from 33) ELSE coalesce(m_all, ''::bytea) END;
  n_size := p_known + octet_length(tail) / 32;
  head := CASE WHEN octet_length(tail) > 0 THEN substring(tail from octet_length(tail) - 31) ELSE p_known_hash END;
  FOR i IN 1 .. coalesce(array_length(p_events, 1), 0) LOOP
    body := convert_to('{"event":', 'UTF8') || p_events[i] || convert_to(format(
      ',"prev":"%s","recorded":"%s","seq":%s,"stream":"%s","v":1}',
      encode(head, 'hex'), p_recorded, n_size + i - 1, p_stream), 'UTF8');
    h := sha256('\x00'::bytea || body);
    seqs[i] := n_size + i - 1;
    prevs[i] := head;
    hs[i] := h;
    bodies[i] := body;
    all_h := all_h || h;
    head := h;
  END LOOP;
  INSERT INTO {{schema}}.audit_entry (stream, seq, prev_hash, entry_hash, body)
    SELECT p_stream, u.seq, u.prev, u.hash, u.body FROM unnest(seqs, prevs, hs, bodies) AS u (seq, prev, hash, body);
  PERFORM set_config('lock_timeout', caller_lock_timeout, true);
  RETURN QUERY SELECT true, n_size, tail, all_h;
END
$fn$;

REVOKE ALL ON FUNCTION {{schema}}.audit_append_events(text, bigint, bytea, bytea[], text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_record_keys(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_entry_keys() FROM PUBLIC;
REVOKE ALL ON TABLE {{schema}}.audit_entry_key FROM PUBLIC;

-- Every role that may read the records may read their keys (queries run as the application role),
-- and every role that may append may append server-built: no need to run grantAppRole again.
DO $do$
DECLARE
  g record;
BEGIN
  FOR g IN
    SELECT a.grantee::regrole::text AS role, 'SELECT ON TABLE {{schema}}.audit_entry_key' AS what
      FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
     WHERE c.oid = '{{schema}}.audit_entry'::regclass
       AND a.privilege_type = 'SELECT' AND a.grantee <> 0 AND a.grantee <> c.relowner
    UNION
    SELECT a.grantee::regrole::text, 'EXECUTE ON FUNCTION {{schema}}.audit_append_events(text, bigint, bytea, bytea[], text, integer)'
      FROM pg_catalog.pg_proc p CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
     WHERE p.oid = '{{schema}}.audit_append(text, bigint, bytea, bigint[], bytea[], bytea[], bytea[], integer)'::regprocedure
       AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0 AND a.grantee <> p.proowner
  LOOP
    EXECUTE format('GRANT %s TO %s', g.what, g.role);
  END LOOP;
END
$do$;
`

// Group commit (issue 16 §1). Under version 4 every server-built append took the stream's lock for
// one writer's batch and held it through its COMMIT: eight writer processes handed the lock around
// once per batch and reached 0.6× the throughput of one. Version 5 lets whoever holds the lock
// sequence the batches of every writer waiting for it, in one transaction (flat combining):
// - a writer alone (gate free, nothing queued) appends at once under the gate, as version 4 did;
// - otherwise a writer queues its batch in audit_append_queue (UNLOGGED: a transaction that writes only
//   unlogged tables commits without waiting for a WAL flush) and commits, so the lock holder can see
//   it;
// - it then takes the stream's gate, a row of the UNLOGGED audit_stream_gate locked FOR UPDATE (a row
//   lock on an unlogged table writes no WAL, so a writer that finds its batch already sequenced
//   releases the gate without a flush). Holding the gate, a writer whose batch is still queued locks
//   the stream's audit_stream_lock row as before (so the appends of versions 3 and 4 still exclude
//   it) and drains the queue: every queued batch of the stream, in queue order, becomes records on
//   the head it holds, inserted by one statement (one run of the link and key triggers), and each
//   batch is marked with its first sequence number; one COMMIT, with synchronous_commit on, makes
//   all of them durable at once;
// - it reads its records' entry hashes (and those it had not seen) once its batch is committed.
// One procedure does the three steps (a procedure may COMMIT between them: one round trip). The
// steps are SECURITY DEFINER functions, so writer roles need no privilege on the two unlogged
// tables, and only roles granted EXECUTE (writers) can take the gate. A batch's fate is decided
// under the gate: a writer whose lock wait times out withdraws its queued batch (deleting it waits
// for a drainer that took it, and then finds it sequenced), so a timeout still means nothing was
// written. A drainer that cannot store one batch (malformed event) stores the others and marks
// that one failed. Unlogged tables are emptied by crash recovery; a missing gate row is recreated.
export const V5: string = String.raw`
-- Key upkeep: the key table's text columns compared bytewise (COLLATE "C") instead of through the
-- database's locale (strcoll, also for C.UTF-8): inserting into its primary key cost about a third
-- more. Queries compare by equality and order by seq, so their answers do not change.
ALTER TABLE {{schema}}.audit_entry_key
  ALTER COLUMN stream TYPE text COLLATE "C",
  ALTER COLUMN value TYPE text COLLATE "C";

-- The same keys as audit_record_keys, extracted per statement instead of per row: each body parsed
-- once into a materialised set, the patients read from it, the agents' distinct who deduplicated by
-- one aggregate over the whole statement (audit_record_keys ran a UNION, with its own hash table,
-- for every row; the trigger took 9-30% less time in two same-run measurements). The same
-- (kind, value) pairs for every body.
CREATE OR REPLACE FUNCTION {{schema}}.audit_entry_keys() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  WITH x AS MATERIALIZED (
    SELECT n.stream, n.seq, convert_from(n.body, 'UTF8')::jsonb -> 'event' AS ev FROM new_rows n)
  INSERT INTO {{schema}}.audit_entry_key (stream, kind, value, seq)
    SELECT x.stream, 'p'::"char", x.ev ->> 'patient', x.seq FROM x WHERE jsonb_typeof(x.ev -> 'patient') = 'string'
    UNION ALL
    SELECT DISTINCT x.stream, 'a'::"char", a ->> 'who', x.seq
      FROM x, jsonb_array_elements(CASE WHEN jsonb_typeof(x.ev -> 'agents') = 'array'
                                        THEN x.ev -> 'agents' ELSE '[]'::jsonb END) a
     WHERE jsonb_typeof(a -> 'who') = 'string';
  RETURN NULL;
END
$fn$;

CREATE UNLOGGED TABLE {{schema}}.audit_stream_gate (
  stream text COLLATE "C" PRIMARY KEY
);

-- id: the queuing transaction's id (unique; no sequence to log). first_seq: NULL while queued, the
-- first record's seq once sequenced, -1 when the batch could not be stored.
CREATE UNLOGGED TABLE {{schema}}.audit_append_queue (
  id        xid8        PRIMARY KEY,
  stream    text        COLLATE "C" NOT NULL,
  events    bytea[]     NOT NULL,
  recorded  text        NOT NULL,
  first_seq bigint,
  done_at   timestamptz
) WITH (fillfactor = 50);
ALTER TABLE {{schema}}.audit_append_queue ALTER COLUMN events SET STORAGE EXTERNAL;
CREATE INDEX audit_append_queue_stream ON {{schema}}.audit_append_queue (stream, id);

INSERT INTO {{schema}}.audit_stream_gate (stream) SELECT s.stream FROM {{schema}}.audit_stream s;

-- Every stream registered from now on gets its gate row in the same statement (SECURITY DEFINER:
-- writers hold nothing on the gate table). Crash recovery empties the table; the drain recreates
-- a missing row.
CREATE FUNCTION {{schema}}.audit_stream_gate_row() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  INSERT INTO {{schema}}.audit_stream_gate (stream) VALUES (NEW.stream) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_stream_gate_row AFTER INSERT ON {{schema}}.audit_stream
  FOR EACH ROW EXECUTE FUNCTION {{schema}}.audit_stream_gate_row();

-- A record's canonical bytes, exactly as the log builds them ({"event":…,"prev":"…","recorded":"…",
-- "seq":…,"stream":"…","v":1}, RFC 8785 order). No SET clause, so it is inlined where it is called.
CREATE FUNCTION {{schema}}.audit_record_body(
    p_event bytea, p_prev bytea, p_recorded text, p_seq bigint, p_stream text) RETURNS bytea
  LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
  SELECT pg_catalog.convert_to('{"event":', 'UTF8') OPERATOR(pg_catalog.||) p_event
         OPERATOR(pg_catalog.||) pg_catalog.convert_to(pg_catalog.format(
           ',"prev":"%s","recorded":"%s","seq":%s,"stream":"%s","v":1}',
           pg_catalog.encode(p_prev, 'hex'), p_recorded, p_seq, p_stream), 'UTF8')
$fn$;

-- Step 1: checks the batch and the writer's head (which must be a committed record, or empty), and
-- queues it. NULL: nothing queued (no events, or the head is not in the stored log).
CREATE FUNCTION {{schema}}.audit_queue_add(
    p_stream text, p_known bigint, p_known_hash bytea, p_events bytea[], p_recorded text)
  RETURNS xid8
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  h bytea;
BEGIN
  IF p_recorded IS NULL OR p_recorded !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
     OR p_known IS NULL OR p_known < 0 OR octet_length(p_known_hash) IS DISTINCT FROM 32
     OR array_position(p_events, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'malformed append' USING ERRCODE = '22023';
  END IF;
  PERFORM 1 FROM {{schema}}.audit_stream s WHERE s.stream = p_stream;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit stream % is not registered', p_stream USING ERRCODE = 'SGA02';
  END IF;
  IF coalesce(cardinality(p_events), 0) = 0 THEN
    RETURN NULL;
  END IF;
  IF p_known > 0 THEN
    SELECT e.entry_hash INTO h FROM {{schema}}.audit_entry e WHERE e.stream = p_stream AND e.seq = p_known - 1;
    IF h IS DISTINCT FROM p_known_hash THEN
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO {{schema}}.audit_append_queue (id, stream, events, recorded)
    VALUES (pg_current_xact_id(), p_stream, p_events, p_recorded);
  RETURN pg_current_xact_id();
END
$fn$;

-- Step 2: waits for the gate; true when the batch is sequenced (by a drainer that committed, or by
-- this call, which drains the queue), false when a lock wait timed out (nothing done).
CREATE FUNCTION {{schema}}.audit_queue_drain(p_stream text, p_ticket xid8, p_lock_timeout_ms integer)
  RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  f bigint;
  h_seq bigint;
  head bytea;
  n_size bigint;
  total integer := 0;
  mine boolean := false;
  q record;
  ids xid8[] := '{}';
  firsts bigint[] := '{}';
  rows_n integer;
  seqs bigint[] := '{}';
  prevs bytea[] := '{}';
  hs bytea[] := '{}';
  bodies bytea[] := '{}';
  body bytea;
  h bytea;
BEGIN
  IF p_lock_timeout_ms IS NULL OR p_lock_timeout_ms < 1 THEN
    RAISE EXCEPTION 'lock timeout must be at least 1 ms' USING ERRCODE = '22023';
  END IF;
  PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
  -- Whoever drains commits the batches of others: durably, whatever its session says.
  PERFORM set_config('synchronous_commit', 'on', true);
  BEGIN
    LOOP
      PERFORM 1 FROM {{schema}}.audit_stream_gate g WHERE g.stream = p_stream FOR UPDATE;
      EXIT WHEN FOUND;
      INSERT INTO {{schema}}.audit_stream_gate (stream) VALUES (p_stream) ON CONFLICT DO NOTHING;
    END LOOP;
    SELECT q0.first_seq INTO f FROM {{schema}}.audit_append_queue q0 WHERE q0.id = p_ticket;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'queued append vanished' USING ERRCODE = 'SGA03';
    END IF;
    IF f IS NOT NULL THEN
      RETURN true;
    END IF;
    PERFORM 1 FROM {{schema}}.audit_stream_lock l WHERE l.stream = p_stream AND l.scope = 'entries' FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'audit stream % is not registered', p_stream USING ERRCODE = 'SGA02';
    END IF;
    SELECT e.seq, e.entry_hash INTO h_seq, head
      FROM {{schema}}.audit_entry e WHERE e.stream = p_stream ORDER BY e.seq DESC LIMIT 1;
    n_size := coalesce(h_seq + 1, 0);
    head := coalesce(head, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    -- Every queued batch of the stream, in queue order (up to this writer's and then about 20,000
    -- records per turn; the rest wait for the next), each built exactly as the log builds it on the
    -- head it continues.
    FOR q IN SELECT q1.id, q1.events, q1.recorded FROM {{schema}}.audit_append_queue q1
              WHERE q1.stream = p_stream AND q1.first_seq IS NULL ORDER BY q1.id
                FOR NO KEY UPDATE SKIP LOCKED LOOP
      EXIT WHEN total >= 20000 AND mine;
      mine := mine OR q.id = p_ticket;
      ids := ids || q.id;
      firsts := firsts || n_size;
      FOR i IN 1 .. cardinality(q.events) LOOP
        body := {{schema}}.audit_record_body(q.events[i], head, q.recorded, n_size, p_stream);
        h := sha256('\x00'::bytea || body);
        total := total + 1;
        seqs[total] := n_size;
        prevs[total] := head;
        hs[total] := h;
        bodies[total] := body;
        head := h;
        n_size := n_size + 1;
      END LOOP;
    END LOOP;
    rows_n := cardinality(ids);
    BEGIN
      INSERT INTO {{schema}}.audit_entry (stream, seq, prev_hash, entry_hash, body)
        SELECT p_stream, u.seq, u.prev, u.hash, u.body FROM unnest(seqs, prevs, hs, bodies) AS u (seq, prev, hash, body);
    EXCEPTION WHEN lock_not_available OR query_canceled THEN
      RAISE;
    WHEN OTHERS THEN
      -- One batch cannot be stored (a malformed event): store the others, batch by batch.
      head := prevs[1];
      n_size := seqs[1];
      FOR j IN 1 .. rows_n LOOP
        SELECT q2.events, q2.recorded INTO q FROM {{schema}}.audit_append_queue q2 WHERE q2.id = ids[j];
        DECLARE
          b_seqs bigint[] := '{}';
          b_prevs bytea[] := '{}';
          b_hs bytea[] := '{}';
          b_bodies bytea[] := '{}';
          b_head bytea := head;
        BEGIN
          FOR i IN 1 .. cardinality(q.events) LOOP
            body := {{schema}}.audit_record_body(q.events[i], b_head, q.recorded, n_size + i - 1, p_stream);
            h := sha256('\x00'::bytea || body);
            b_seqs[i] := n_size + i - 1;
            b_prevs[i] := b_head;
            b_hs[i] := h;
            b_bodies[i] := body;
            b_head := h;
          END LOOP;
          BEGIN
            INSERT INTO {{schema}}.audit_entry (stream, seq, prev_hash, entry_hash, body)
              SELECT p_stream, u.seq, u.prev, u.hash, u.body FROM unnest(b_seqs, b_prevs, b_hs, b_bodies) AS u (seq, prev, hash, body);
            firsts[j] := n_size;
            n_size := n_size + cardinality(q.events);
            head := b_head;
          EXCEPTION WHEN lock_not_available OR query_canceled THEN
            RAISE;
          WHEN OTHERS THEN
            firsts[j] := -1;
          END;
        END;
      END LOOP;
    END;
    UPDATE {{schema}}.audit_append_queue q3 SET first_seq = u.f, done_at = statement_timestamp()
      FROM unnest(ids, firsts) AS u (id, f) WHERE q3.id = u.id;
    -- Batches sequenced long ago whose writer never came back for the answer (it died).
    IF random() < 0.01 THEN
      DELETE FROM {{schema}}.audit_append_queue q4
       WHERE q4.stream = p_stream AND q4.done_at < statement_timestamp() - interval '1 hour';
    END IF;
    RETURN true;
  EXCEPTION WHEN lock_not_available THEN
    RETURN false;
  END;
END
$fn$;

-- The lone writer's shortcut: when nobody holds the gate and nothing is queued for the stream, the
-- batch is appended at once by version 4's audit_append_events (under the gate and the stream's lock
-- row, one transaction, no queue row). No rows: the gate is busy or batches are queued (the caller
-- queues its batch; a gate taken here is released by the queue's COMMIT).
CREATE FUNCTION {{schema}}.audit_queue_direct(
    p_stream text, p_known bigint, p_known_hash bytea, p_events bytea[], p_recorded text,
    p_lock_timeout_ms integer)
  RETURNS TABLE (ok boolean, size bigint, missed bytea, hashes bytea)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  PERFORM set_config('synchronous_commit', 'on', true);
  BEGIN
    PERFORM 1 FROM {{schema}}.audit_stream_gate g WHERE g.stream = p_stream FOR UPDATE NOWAIT;
    IF NOT FOUND THEN
      RETURN;
    END IF;
  EXCEPTION WHEN lock_not_available THEN
    RETURN;
  END;
  PERFORM 1 FROM {{schema}}.audit_append_queue q WHERE q.stream = p_stream AND q.first_seq IS NULL LIMIT 1;
  IF FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT r.ok, r.size, r.missed, r.hashes
    FROM {{schema}}.audit_append_events(p_stream, p_known, p_known_hash, p_events, p_recorded, p_lock_timeout_ms) r;
END
$fn$;

-- After a timed-out wait: deletes the batch if it is still queued (waiting for a drainer that took
-- it, if any). true: withdrawn, nothing written; false: it was sequenced after all.
CREATE FUNCTION {{schema}}.audit_queue_withdraw(p_ticket xid8, p_lock_timeout_ms integer)
  RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
  BEGIN
    DELETE FROM {{schema}}.audit_append_queue q WHERE q.id = p_ticket AND q.first_seq IS NULL;
    RETURN FOUND;
  EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'the outcome of a timed-out append is not known yet' USING ERRCODE = 'SGA03';
  END;
END
$fn$;

-- Step 3: the answer, as audit_append_events gives it: ok = false when the writer's head is not in
-- the stored log (nothing was queued); size, the entry hashes of the records after the writer's head
-- that it had not seen, and those of its own records. Removes the batch from the queue.
CREATE FUNCTION {{schema}}.audit_queue_result(
    p_stream text, p_ticket xid8, p_known bigint, p_known_hash bytea)
  RETURNS TABLE (ok boolean, size bigint, missed bytea, hashes bytea)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  f bigint;
  n integer := 0;
  m_first bigint;
  m_last bigint;
  m_n bigint;
  m_all bytea;
  tail bytea;
  own bytea;
BEGIN
  IF p_ticket IS NOT NULL THEN
    DELETE FROM {{schema}}.audit_append_queue q WHERE q.id = p_ticket RETURNING q.first_seq, cardinality(q.events) INTO f, n;
    IF NOT FOUND OR f IS NULL THEN
      RAISE EXCEPTION 'queued append vanished' USING ERRCODE = 'SGA03';
    END IF;
    IF f < 0 THEN
      RAISE EXCEPTION 'the batch could not be stored (malformed event)' USING ERRCODE = '22023';
    END IF;
  END IF;
  SELECT min(e.seq), max(e.seq), count(*), string_agg(e.entry_hash, ''::bytea ORDER BY e.seq)
    INTO m_first, m_last, m_n, m_all
    FROM {{schema}}.audit_entry e
   WHERE e.stream = p_stream AND e.seq >= p_known - 1 AND (f IS NULL OR e.seq < f + n);
  IF (m_n > 0 AND (m_first <> greatest(p_known - 1, 0) OR m_last - m_first + 1 <> m_n))
     OR (p_known > 0 AND (m_n = 0 OR substring(m_all from 1 for 32) <> p_known_hash)) THEN
    IF f IS NOT NULL THEN
      RAISE EXCEPTION 'stored records around a queued append are missing' USING ERRCODE = 'SGA03';
    END IF;
    RETURN QUERY SELECT false, m_last + 1, NULL::bytea, NULL::bytea;
    RETURN;
  END IF;
  tail := CASE WHEN p_known > 0 THEN substring(m_all from 33) ELSE coalesce(m_all, ''::bytea) END;
  IF f IS NULL THEN
    RETURN QUERY SELECT true, p_known + octet_length(tail) / 32, tail, ''::bytea;
    RETURN;
  END IF;
  own := substring(tail from octet_length(tail) - 32 * n + 1);
  tail := substring(tail from 1 for octet_length(tail) - 32 * n);
  RETURN QUERY SELECT true, f, tail, own;
END
$fn$;

-- The log's append (one round trip): the lone writer's shortcut, or queue, commit, drain or wait,
-- commit, answer. No SET clause (a
-- procedure with one cannot COMMIT); it only calls the functions above, schema-qualified.
CREATE PROCEDURE {{schema}}.audit_append_queued(
    p_stream text, p_known bigint, p_known_hash bytea, p_events bytea[], p_recorded text,
    p_lock_timeout_ms integer,
    INOUT ok boolean DEFAULT NULL, INOUT size bigint DEFAULT NULL,
    INOUT missed bytea DEFAULT NULL, INOUT hashes bytea DEFAULT NULL)
  LANGUAGE plpgsql AS $fn$
DECLARE
  t xid8;
BEGIN
  SELECT r.ok, r.size, r.missed, r.hashes INTO ok, size, missed, hashes
    FROM {{schema}}.audit_queue_direct(p_stream, p_known, p_known_hash, p_events, p_recorded, p_lock_timeout_ms) r;
  IF FOUND THEN
    RETURN;
  END IF;
  t := {{schema}}.audit_queue_add(p_stream, p_known, p_known_hash, p_events, p_recorded);
  IF t IS NOT NULL THEN
    COMMIT;
    IF NOT {{schema}}.audit_queue_drain(p_stream, t, p_lock_timeout_ms) THEN
      COMMIT;
      IF {{schema}}.audit_queue_withdraw(t, p_lock_timeout_ms) THEN
        COMMIT;
        RAISE EXCEPTION 'canceling statement due to lock timeout' USING ERRCODE = '55P03';
      END IF;
    END IF;
    COMMIT;
  END IF;
  SELECT r.ok, r.size, r.missed, r.hashes INTO ok, size, missed, hashes
    FROM {{schema}}.audit_queue_result(p_stream, t, p_known, p_known_hash) r;
END
$fn$;

REVOKE ALL ON TABLE {{schema}}.audit_stream_gate, {{schema}}.audit_append_queue FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_record_body(bytea, bytea, text, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_stream_gate_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_queue_add(text, bigint, bytea, bytea[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_queue_drain(text, xid8, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_queue_withdraw(xid8, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_queue_direct(text, bigint, bytea, bytea[], text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION {{schema}}.audit_queue_result(text, xid8, bigint, bytea) FROM PUBLIC;
REVOKE ALL ON PROCEDURE {{schema}}.audit_append_queued(text, bigint, bytea, bytea[], text, integer, boolean, bigint, bytea, bytea) FROM PUBLIC;

-- Every role that may append server-built may append queued: no need to run grantAppRole again.
DO $do$
DECLARE
  w text;
BEGIN
  FOR w IN
    SELECT DISTINCT a.grantee::regrole::text
      FROM pg_catalog.pg_proc p CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
     WHERE p.oid = '{{schema}}.audit_append_events(text, bigint, bytea, bytea[], text, integer)'::regprocedure
       AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0 AND a.grantee <> p.proowner
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION {{schema}}.audit_queue_add(text, bigint, bytea, bytea[], text),
      {{schema}}.audit_queue_drain(text, xid8, integer), {{schema}}.audit_queue_withdraw(xid8, integer),
      {{schema}}.audit_queue_direct(text, bigint, bytea, bytea[], text, integer),
      {{schema}}.audit_queue_result(text, xid8, bigint, bytea) TO %s', w);
    EXECUTE format('GRANT EXECUTE ON PROCEDURE {{schema}}.audit_append_queued(text, bigint, bytea, bytea[], text, integer, boolean, bigint, bytea, bytea) TO %s', w);
  END LOOP;
END
$do$;
`
