-- +goose Up
CREATE TABLE sync_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trigger         text        NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text        NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'canceled')),
    error           text,
    api_requests    bigint      NOT NULL DEFAULT 0,
    token_refreshes bigint      NOT NULL DEFAULT 0,
    retries         bigint      NOT NULL DEFAULT 0,
    rate_limited    bigint      NOT NULL DEFAULT 0,
    fetched         bigint      NOT NULL DEFAULT 0,
    inserted        bigint      NOT NULL DEFAULT 0,
    updated         bigint      NOT NULL DEFAULT 0,
    unchanged       bigint      NOT NULL DEFAULT 0,
    deleted         bigint      NOT NULL DEFAULT 0,
    restored        bigint      NOT NULL DEFAULT 0
);
CREATE INDEX sync_runs_started_at_idx ON sync_runs (started_at DESC);
CREATE INDEX sync_runs_running_idx ON sync_runs (run_id) WHERE status = 'running';

CREATE TABLE sync_run_scopes (
    run_id    bigint NOT NULL REFERENCES sync_runs (run_id) ON DELETE CASCADE,
    entity    text   NOT NULL
        CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents')),
    scope     text   NOT NULL,
    status    text   NOT NULL CHECK (status IN ('succeeded', 'failed', 'withheld')),
    error     text,
    fetched   bigint NOT NULL DEFAULT 0,
    inserted  bigint NOT NULL DEFAULT 0,
    updated   bigint NOT NULL DEFAULT 0,
    unchanged bigint NOT NULL DEFAULT 0,
    deleted   bigint NOT NULL DEFAULT 0,
    restored  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, entity, scope)
);
CREATE INDEX sync_run_scopes_entity_idx ON sync_run_scopes (entity, scope, run_id DESC);

-- Entity tables: typed columns, then the system columns
-- raw, row_hash, first_seen_at, last_changed_at, deleted_at, last_run_id.
CREATE TABLE accounts (
    main_account_id text PRIMARY KEY,
    name            text,
    rc_account_id   text,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint
);

CREATE TABLE sub_accounts (
    sub_account_id  text PRIMARY KEY,
    main_account_id text NOT NULL REFERENCES accounts (main_account_id),
    name            text,
    archived        boolean,
    start_date      timestamptz,
    end_date        timestamptz,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint
);
CREATE INDEX sub_accounts_main_account_idx ON sub_accounts (main_account_id);
CREATE INDEX sub_accounts_live_idx ON sub_accounts (main_account_id, sub_account_id) WHERE deleted_at IS NULL;

CREATE TABLE users (
    user_id         bigint PRIMARY KEY,
    parent_user_id  bigint,
    user_name       text,
    first_name      text,
    last_name       text,
    full_name       text,
    enabled         boolean,
    root_user       boolean,
    rc_user_id      bigint,
    rc_account_id   text,
    roles           text[],
    created_at      timestamptz,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint
);
CREATE INDEX users_parent_idx ON users (parent_user_id);
CREATE INDEX users_rc_user_idx ON users (rc_user_id) WHERE deleted_at IS NULL;
CREATE INDEX users_live_idx ON users (user_id) WHERE deleted_at IS NULL;

CREATE TABLE agent_groups (
    sub_account_id  text   NOT NULL,
    agent_group_id  bigint NOT NULL,
    name            text,
    is_default      boolean,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, agent_group_id)
);
CREATE INDEX agent_groups_live_idx ON agent_groups (sub_account_id, agent_group_id) WHERE deleted_at IS NULL;

CREATE TABLE agents (
    sub_account_id  text   NOT NULL,
    agent_id        bigint NOT NULL,
    agent_group_id  bigint NOT NULL,
    username        text,
    first_name      text,
    last_name       text,
    email           text,
    agent_type      text,
    is_active       boolean,
    rc_user_id      bigint,
    created_at      timestamptz,
    last_login_at   timestamptz,
    raw             jsonb       NOT NULL,
    row_hash        bytea       NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    deleted_at      timestamptz,
    last_run_id     bigint,
    PRIMARY KEY (sub_account_id, agent_id),
    FOREIGN KEY (sub_account_id, agent_group_id)
        REFERENCES agent_groups (sub_account_id, agent_group_id)
);
CREATE INDEX agents_group_idx ON agents (sub_account_id, agent_group_id);
CREATE INDEX agents_live_rc_user_idx ON agents (rc_user_id) WHERE deleted_at IS NULL;
CREATE INDEX agents_live_username_idx ON agents (lower(username)) WHERE deleted_at IS NULL;

-- History: one row per change (insert, update, delete, restore), i.e. per version of a row,
-- valid from valid_from to valid_to. The current version (valid_to IS NULL) has raw NULL: its
-- object is the entity row's raw, and is copied here when the version is superseded. So every
-- object is stored once, and a first load writes no second copy of each row.
CREATE TABLE accounts_history (
    main_account_id text        NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (main_account_id, valid_from)
);
CREATE TABLE sub_accounts_history (
    sub_account_id  text        NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, valid_from)
);
CREATE TABLE users_history (
    user_id         bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (user_id, valid_from)
);
CREATE TABLE agent_groups_history (
    sub_account_id  text        NOT NULL,
    agent_group_id  bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, agent_group_id, valid_from)
);
CREATE TABLE agents_history (
    sub_account_id  text        NOT NULL,
    agent_id        bigint      NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    change          text        NOT NULL CHECK (change IN ('insert', 'update', 'delete', 'restore')),
    changed_columns text[]      NOT NULL,
    run_id          bigint,
    raw             jsonb,
    PRIMARY KEY (sub_account_id, agent_id, valid_from)
);

-- +goose Down
DROP TABLE agents_history;
DROP TABLE agent_groups_history;
DROP TABLE users_history;
DROP TABLE sub_accounts_history;
DROP TABLE accounts_history;
DROP TABLE agents;
DROP TABLE agent_groups;
DROP TABLE users;
DROP TABLE sub_accounts;
DROP TABLE accounts;
DROP TABLE sync_run_scopes;
DROP TABLE sync_runs;
