-- 0001_users_and_chat.sql
--
-- Creates the people and the conversation that starts a plan:
--   masterplan_set_updated_at()  trigger function shared by every table with an updated_at column
--   users                        accounts (email unique case-insensitively, admin|member)
--   api_tokens                   long-lived API tokens, stored only as SHA-256 hashes
--   conversations, messages      the chat in which "/masterplan <request>" starts a plan
--
-- Conventions for every migration in this folder (DESIGN.md §4):
--   * uuid primary keys from gen_random_uuid() (built into PostgreSQL 13+), except append-only
--     logs that need a commit-ordered key (plan_history, events), which use bigint identities;
--   * timestamptz NOT NULL DEFAULT now() for every creation time;
--   * a CHECK on every status/kind/priority/role column and on numeric ranges;
--   * ON DELETE chosen per foreign key: CASCADE from a plan to its tree, RESTRICT where deleting
--     would lose evidence (who approved, what was spent), SET NULL where a link is only a hint.
-- Applied by `masterplan migrate` in one transaction together with its schema_migrations row:
-- no BEGIN/COMMIT here, nothing that cannot run inside a transaction.

CREATE FUNCTION masterplan_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION masterplan_set_updated_at() IS
    'BEFORE UPDATE trigger: keeps updated_at at the time of the transaction that last changed the row.';

-- users ---------------------------------------------------------------------------------------

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'member',
    display_name  text,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_check          CHECK (role IN ('admin', 'member')),
    CONSTRAINT users_email_format_check  CHECK (email = btrim(email)
                                                AND length(email) <= 320
                                                AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    CONSTRAINT users_password_hash_check CHECK (length(password_hash) > 0)
);

-- Case-insensitive uniqueness: "Ann@x.org" and "ann@x.org" are one account.
-- Look users up with `WHERE lower(email) = lower($1)` so this index is used.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

COMMENT ON COLUMN users.password_hash IS
    'Self-describing password hash (e.g. a PHC string such as $argon2id$... or $pbkdf2-sha256$...); never the password.';
COMMENT ON COLUMN users.disabled_at IS
    'Set instead of deleting a user who owns plans or spent money (those foreign keys RESTRICT); a disabled user cannot log in.';

-- api_tokens ----------------------------------------------------------------------------------

CREATE TABLE api_tokens (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    token_hash   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_token_hash_key   UNIQUE (token_hash),
    CONSTRAINT api_tokens_name_check       CHECK (length(btrim(name)) > 0),
    CONSTRAINT api_tokens_token_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT api_tokens_expiry_check     CHECK (expires_at IS NULL OR expires_at > created_at)
);

CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

COMMENT ON COLUMN api_tokens.token_hash IS
    'Lowercase hex SHA-256 of the token; the token itself is shown once at creation and never stored.';

-- conversations and messages --------------------------------------------------------------------

CREATE TABLE conversations (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX conversations_owner_idx ON conversations (owner_id, updated_at DESC);

CREATE TRIGGER conversations_set_updated_at BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_updated_at();

CREATE TABLE messages (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            text        NOT NULL,
    content         text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_seq_key     UNIQUE (seq),
    CONSTRAINT messages_role_check  CHECK (role IN ('user', 'assistant', 'system'))
);

CREATE INDEX messages_conversation_idx ON messages (conversation_id, seq);

COMMENT ON COLUMN messages.seq IS
    'Insertion order: several messages written in one transaction share created_at, so order by seq.';
