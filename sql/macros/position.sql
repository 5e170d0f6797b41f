{#
  The batch position protocol (docs/rules.md: The runner), said once. A run carries its
  place in v_after (the `next` of the previous batch, macros/job_result.sql), one key per
  phase: absent (the phase starts from the beginning), the last row's keys as a JSON array
  (continue after it), or "done" (nothing left in this run).

  position(key, type, i): where a batch starts, the i-th key of the phase's last row as
  `type`; NULL when the phase starts from the beginning (or is done).

  walk(key, ids): one phase's batch. The caller's statements read at most v_left rows
  (NULL: no limit) after position(key, ...) and set `ids` (its array of keys), v_seen (how
  many rows it read) and v_last (the last one's keys as a JSON array). A phase that is done
  reads nothing; one with no room left (v_left = 0) reads nothing and sets v_more. Fewer rows
  than asked: the phase is done; otherwise it continues after v_last in the next batch and
  sets v_more. v_left is then what is left for the batch's later phases. With own_position
  the caller moves the phase on itself (sets "done", or its own position and v_more):
  macros/heap_pass.sql, whose batch can read fewer rows than asked and not be done.

  Needs the locals the job_function frame declares: v_after, v_last jsonb, v_seen, v_left
  bigint, v_more boolean.
#}
{% macro position(key, type, i=0) -%}
(NULLIF(v_after -> {{ key | literal }}, '"done"') ->> {{ i }})::{{ type }}
{%- endmacro %}
{#
  A phase's keys, a list of (column, type) pairs: columns(keys, alias) lists their columns,
  `t.expires_at, t.id`; positions(key, keys) the phase's position, one position() a key;
  past(key, keys) is true for the rows after that position, `(t.a, t.b) > (…)`.
#}
{% macro columns(keys, alias='t') -%}
{% for col, _ in keys %}{{ alias }}.{{ col }}{{ ', ' if not loop.last }}{% endfor %}
{%- endmacro %}
{% macro positions(key, keys) -%}
{% for _, type in keys %}{{ position(key, type, loop.index0) }}{{ ', ' if not loop.last }}{% endfor %}
{%- endmacro %}
{% macro past(key, keys) -%}
({{ columns(keys) }}) > ({{ positions(key, keys) }})
{%- endmacro %}
{% macro walk(key, ids, own_position=false) %}
    {{ ids }} := '{}';
    v_seen := 0;
    IF v_after -> {{ key | literal }} OPERATOR(pg_catalog.=) '"done"'::jsonb THEN
        NULL;
    ELSIF v_left = 0 THEN
        v_more := true;
    ELSE
{{ caller().rstrip() }}
{% if not own_position %}
        IF v_left IS NULL OR v_seen < v_left THEN
            v_after := v_after || pg_catalog.jsonb_build_object({{ key | literal }}, 'done');
        ELSE
            v_after := v_after || pg_catalog.jsonb_build_object({{ key | literal }}, v_last);
            v_more := true;
        END IF;
{% endif %}
        v_left := v_left - v_seen;
    END IF;
{% endmacro %}
