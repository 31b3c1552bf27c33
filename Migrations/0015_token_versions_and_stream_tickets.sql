-- 0015_token_versions_and_stream_tickets.sql
--
-- Tokens end with what they stand for, and no token travels in a URL:
--   users.token_version       carried in every access token (claim "ver"); a token whose version is
--                             not the account's current one is refused. A BEFORE UPDATE trigger raises
--                             it whenever the password hash or the role changes or the account is
--                             disabled, whoever makes the change (the CLI, the API, psql), so every
--                             token issued before is dead at once.
--   masterplan_users          NOTIFY channel: the id of a user whose version or disabled state
--                             changed (payload: the id only). The SSE relay LISTENs on it and ends that
--                             user's open streams; it also checks its streams' accounts by query every
--                             few seconds, since a notification can be lost.
--   stream_tickets            single-use, short-lived tickets that open one event stream (EventSource
--                             cannot send an Authorization header). Only the SHA-256 of a ticket is
--                             stored; redeeming deletes the row (DELETE … RETURNING), so a ticket opens
--                             at most one stream. Each is bound to its user, the user's token version
--                             and the expiry of the access token it was issued with.

ALTER TABLE users
    ADD COLUMN token_version bigint NOT NULL DEFAULT 1,
    ADD CONSTRAINT users_token_version_check CHECK (token_version >= 1);

COMMENT ON COLUMN users.token_version IS
    'Access tokens carry it (claim ver) and are refused once it moved on; raised by users_end_tokens on a new password, a new role or a disable.';

CREATE FUNCTION masterplan_end_user_tokens() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.password_hash IS DISTINCT FROM OLD.password_hash
       OR NEW.role IS DISTINCT FROM OLD.role
       OR (NEW.disabled_at IS NOT NULL AND OLD.disabled_at IS NULL) THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION masterplan_end_user_tokens() IS
    'BEFORE UPDATE trigger on users: a new password hash, a new role or a disable raises token_version, which ends every token issued before.';

CREATE TRIGGER users_end_tokens BEFORE UPDATE OF password_hash, role, disabled_at ON users
    FOR EACH ROW EXECUTE FUNCTION masterplan_end_user_tokens();

CREATE FUNCTION masterplan_notify_user_access() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Delivered at commit, never for a rolled-back transaction. Payload: the id only; listeners
    -- read the row.
    PERFORM pg_notify('masterplan_users', NEW.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_access AFTER UPDATE OF token_version, disabled_at ON users
    FOR EACH ROW
    WHEN (NEW.token_version IS DISTINCT FROM OLD.token_version OR NEW.disabled_at IS DISTINCT FROM OLD.disabled_at)
    EXECUTE FUNCTION masterplan_notify_user_access();

-- stream_tickets ------------------------------------------------------------------------------

CREATE TABLE stream_tickets (
    ticket_hash      text        PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_version    bigint      NOT NULL,
    plan_id          uuid        REFERENCES masterplans (id) ON DELETE CASCADE,
    token_expires_at timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stream_tickets_hash_check   CHECK (ticket_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT stream_tickets_expiry_check CHECK (expires_at > created_at AND expires_at <= token_expires_at)
);

CREATE INDEX stream_tickets_expires_idx ON stream_tickets (expires_at);

COMMENT ON TABLE stream_tickets IS
    'Single-use tickets that open one SSE stream: redeemed with DELETE … RETURNING; expired rows are purged when new ones are issued.';
COMMENT ON COLUMN stream_tickets.ticket_hash IS
    'Lowercase hex SHA-256 of the ticket; the ticket itself is returned once and never stored.';
COMMENT ON COLUMN stream_tickets.plan_id IS
    'The plan whose stream the ticket opens; NULL for the user''s stream of all their plans.';
COMMENT ON COLUMN stream_tickets.token_expires_at IS
    'Expiry of the access token the ticket was issued with: the stream it opens ends then.';
