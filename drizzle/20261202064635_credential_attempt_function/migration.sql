-- Counts one credential attempt in one statement: under a lock on the key (held until the
-- calling statement commits), reads the key's newest attempts since p_since, then writes this
-- one. Concurrent attempts of a key are thus seen one after the other, in one round trip.
-- The others come back as epoch milliseconds, newest first, comma-separated (driver-neutral).
CREATE FUNCTION count_credential_attempt(
  p_key_hash text,
  p_at timestamptz,
  p_since timestamptz,
  p_fetch integer
) RETURNS TABLE (attempt_id bigint, others_ms text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_id bigint;
  v_others text;
BEGIN
  -- The two-int lock space; 7106407 = 'log'. Other locks of the portal use the bigint space.
  PERFORM pg_advisory_xact_lock(7106407, hashtext(p_key_hash));
  -- A new statement, so a new snapshot: it sees what the previous lock holder committed.
  SELECT coalesce(
      string_agg(
        floor(extract(epoch FROM r.failed_at) * 1000)::bigint::text, ','
        ORDER BY r.failed_at DESC, r.id DESC
      ),
      ''
    )
    INTO v_others
    FROM (
      SELECT f.failed_at, f.id FROM login_failures f
      WHERE f.key_hash = p_key_hash AND f.failed_at > p_since
      ORDER BY f.failed_at DESC, f.id DESC
      LIMIT p_fetch
    ) r;
  INSERT INTO login_failures (key_hash, failed_at) VALUES (p_key_hash, p_at)
    RETURNING login_failures.id INTO v_id;
  RETURN QUERY SELECT v_id, v_others;
END
$$;
