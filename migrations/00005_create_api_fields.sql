-- +goose Up
-- Schema drift, made queryable (DESIGN.md): the JSON paths each entity's API objects carry and
-- their JSON types, and what each run found appeared, vanished or changed type. Names only:
-- no value is ever recorded here.

-- One row per path an entity's objects carried at their latest observation. A path removed
-- upstream is deleted from here (its api_field_changes row says when); one that comes back
-- starts over with a new first_seen_run_id.
CREATE TABLE api_fields (
    entity            text   NOT NULL
        CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups')),
    path              text   NOT NULL, -- "isActive", "mainAccount.rcAccountId", "roles[].roleType"
    json_types        text[] NOT NULL  -- sorted: array, boolean, null, number, object, string
        CHECK (json_types <> '{}' AND json_types <@ ARRAY['array', 'boolean', 'null', 'number', 'object', 'string']),
    first_seen_run_id bigint REFERENCES sync_runs (run_id) ON DELETE SET NULL,
    last_seen_run_id  bigint REFERENCES sync_runs (run_id) ON DELETE SET NULL,
    PRIMARY KEY (entity, path)
);

-- One row per path that, against the entity's previous observation, appeared (added),
-- disappeared from every object (removed: judged only when every scope of the entity completed
-- in the run) or whose set of non-null types changed (type_changed). old_type and new_type are
-- the sorted non-null types joined with '|' ("boolean", "number|string"); "null" when the path
-- held only nulls; NULL on the side where the path did not exist.
CREATE TABLE api_field_changes (
    run_id   bigint NOT NULL REFERENCES sync_runs (run_id) ON DELETE CASCADE,
    entity   text   NOT NULL
        CHECK (entity IN ('accounts', 'sub_accounts', 'users', 'agent_groups', 'agents', 'queue_groups', 'queues', 'skills', 'dial_groups', 'campaigns', 'agent_queues', 'agent_dial_groups')),
    path     text   NOT NULL,
    change   text   NOT NULL CHECK (change IN ('added', 'removed', 'type_changed')),
    old_type text,
    new_type text,
    PRIMARY KEY (run_id, entity, path),
    CHECK ((change = 'added') = (old_type IS NULL) AND (change = 'removed') = (new_type IS NULL))
);
CREATE INDEX api_field_changes_entity_path_idx ON api_field_changes (entity, path);

-- +goose Down
DROP TABLE api_field_changes;
DROP TABLE api_fields;
