{#
  ALTER TABLE … ADD CONSTRAINT has no IF NOT EXISTS: add the constraint in a DO block
  guarded by a pg_constraint lookup by name, so a file of sql/app can run again, and a
  table created by an earlier version of the reference schema (CREATE TABLE IF NOT EXISTS
  left it as it was) gains the constraint too. A constraint of that name already there is
  left alone, whatever it says. `definition` is SQL text written in the template
  (e.g. "CHECK (view_count >= 0)"), never a configuration value.
#}
{% macro add_constraint(schema, table, name, definition) %}
DO $constraint$
BEGIN
    IF NOT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_constraint
         WHERE conrelid = {{ ((schema | ident) ~ '.' ~ (table | ident)) | literal }}::regclass
           AND conname = {{ name | literal }}
    ) THEN
        ALTER TABLE {{ schema | ident }}.{{ table | ident }} ADD CONSTRAINT {{ name | ident }} {{ definition }};
    END IF;
END
$constraint$;
{% endmacro %}
