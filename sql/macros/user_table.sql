{#
  The head of a table the job set keeps in the app schema, one row per user (docs/rules.md: The app's data:
  SnapBet lacks it, the deployer creates it idempotently): the table with its key and
  updated_at (the p_now of the run that last changed the row), row level security on, and
  its comment. The caller adds its columns with ADD COLUMN IF NOT EXISTS, so
  an older shape of the table gains what is new.
  Row level security on, no policy: on Supabase a table in the API's schema without it is
  readable and writable with the public key. The job (the table's owner) is not affected; the
  app grants what its clients may read with a policy of its own.
#}
{% macro user_table(name, comment) %}
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.{{ name | ident }} (
    user_id uuid PRIMARY KEY REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE
);
ALTER TABLE {{ app_schema | ident }}.{{ name | ident }}
    ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE {{ app_schema | ident }}.{{ name | ident }} ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE {{ app_schema | ident }}.{{ name | ident }} IS {{ comment | literal }};
{% endmacro %}
