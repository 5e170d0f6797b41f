{#
  CREATE TYPE has no IF NOT EXISTS: create the enum in a DO block guarded by a pg_type
  lookup, so the file can run again.
#}
{% macro create_enum(schema, name, labels) %}
DO $type$
BEGIN
    IF NOT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = {{ schema | literal }} AND t.typname = {{ name | literal }}
    ) THEN
        CREATE TYPE {{ schema | ident }}.{{ name | ident }} AS ENUM ({{ labels | map('literal') | join(', ') }});
    END IF;
END
$type$;
{% endmacro %}
