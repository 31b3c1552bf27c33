-- 0016_login_throttle.sql
--
-- Failed logins, counted so the API can refuse the next attempt before it spends ~0.7 s of CPU on
-- the password hash (README "Configuration", MASTERPLAN_LOGIN_*). The API workers are separate
-- processes, so what they share is here:
--   login_attempts                      one row per login attempt whose password check ran and did
--                                       not succeed, written before the check starts (so concurrent
--                                       attempts count it) and stamped again with the time of its
--                                       401: the account (the lower-cased email, whether
--                                       or not such an account exists — an unknown email is throttled
--                                       like a known one) and the key of the client's address. A
--                                       successful login deletes its own row and clears the account of
--                                       the account's other rows (they keep counting for their address).
--   masterplan_login_address_key(text)  the key an address is counted under
--
-- Attempts on one account, and on one address, are serialised by transaction-scoped advisory locks
-- in the two-key space: (19793, hashtext(account)) and (19794, hashtext(address)); 19792 is the
-- events' (0006_events.sql). Rows older than the configured window are deleted in small batches by
-- the attempts that write new rows.

CREATE TABLE login_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account      text,
    address      text        NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT login_attempts_account_check CHECK (account IS NULL OR (account = lower(account) AND length(account) <= 320)),
    CONSTRAINT login_attempts_address_check CHECK (length(address) <= 64)
);

COMMENT ON TABLE login_attempts IS
    'Failed (and in-flight) login attempts within the throttle window; account is NULL after that account logged in.';

CREATE INDEX login_attempts_account_idx ON login_attempts (account, attempted_at) WHERE account IS NOT NULL;
CREATE INDEX login_attempts_address_idx ON login_attempts (address, attempted_at);
CREATE INDEX login_attempts_attempted_at_idx ON login_attempts (attempted_at);

-- An IPv4 address counts as itself; an IPv6 address by its /64, since whoever holds one address of
-- a /64 (one customer's network) can use any other in it; an IPv4-mapped IPv6 address as itself;
-- anything that is not an address (an empty REMOTE_ADDR, "unix:") as the text it is, cut to 64.
CREATE FUNCTION masterplan_login_address_key(p_address text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    v_address inet;
BEGIN
    BEGIN
        v_address := p_address::inet;
    EXCEPTION WHEN invalid_text_representation THEN
        RETURN left(p_address, 64);
    END;
    IF family(v_address) = 6 AND NOT v_address <<= '::ffff:0:0/96'::inet THEN
        RETURN network(set_masklen(v_address, 64))::text;
    END IF;
    RETURN host(v_address);
END;
$$;

COMMENT ON FUNCTION masterplan_login_address_key(text) IS
    'The key login_attempts counts a client address under: IPv4 as is, IPv6 by its /64, other text as is (at most 64 characters).';
