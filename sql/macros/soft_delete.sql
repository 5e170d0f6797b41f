{#
  select_apply whose write is a soft delete: deleted_at = p_now on the candidates that
  still match the rule when the write reaches them (a row the app changed since the
  candidates were read is checked again, as it is now). `record`, `source` as select_apply's.

  How the write reaches the candidates is chosen for the planner (bench/README.md:
  unanalyzed, Goals):
  - by `id = ANY` of the candidates' keys, which only the primary key serves: joined to the
    candidates instead, the write was planned as a hash of the whole table for every batch
    (cleanup's notifications), so each batch re-read the rows the later ones would delete;
  - the recheck is a subquery, `(SELECT rule)`, so that the planner cannot read it as the
    predicate of a partial index on the rule (expire_content's indexes are): without
    statistics (after a bulk load or a restore) it estimates such an index nearly empty,
    and walked all of it for every batch's write.
  The subquery is evaluated on the candidates only, and again on a row's new version when
  the app changed it while the write waited (tests/test_expire_content.py).
  On Citus, which runs neither the correlated subquery nor the array of a CTE in a
  distributed write, the write joins the candidates and rechecks the rule as it is
  (docs/citus.md). Import with context: `citus` is the deploy's.

  heap=true (a phase over `table` itself, by expiry): when most of the table is due (a
  backlog: after an outage, a restore, a first run), the phase makes one pass over the heap
  instead, batch by batch over ranges of pages in physical order (TID range scans): the
  index walk visits each due row's page, then finds it again by key to write it, against
  one read of each page (bench/README.md: vs_bare). Chosen when the phase starts: with at
  least 1,000 rows due (counted by the rule's keys, up to 1,000, so an hourly run pays one
  short index read), a sample of about 64 of the table's pages (TABLESAMPLE, repeatable, so
  a dry run chooses as the real run does) must hold at least a fifth of its rows due. A
  batch takes the first
  v_left due rows after its position (a TID) within as many pages as should hold them, and
  writes every row between its position and the last of them that still matches the rule
  when the write reaches it (a candidate the app updated meanwhile is rechecked where its
  new version is, which may be outside the batch's pages: by key, after the batch's write);
  the position, the pages' end (the table's size when the phase
  started) and the due rows a page holds go in `next` under `<key>:heap`. So the order is
  the heap's, not the rule's keys'; a row the app moves to a page the pass has left is seen
  by the next run. Not on Citus. Needs the locals v_tid tid, v_rows, v_due numeric, v_pages,
  v_to bigint, v_moved uuid[].
#}
{% from "macros/select_apply.sql" import select_apply %}
{% macro soft_delete(key, table, rule, keys, record=true, source=none, heap=false) %}
{% if heap and not citus %}
{% set heap_from = 1000 %}
{% set at = 'v_after -> ' ~ ((key ~ ':heap') | literal) %}
{% set block = "(t.ctid::text::point)[0]" %}
    -- {{ key }}: one pass over the heap when most of the table is due, or by the rule's keys
    IF v_after -> {{ key | literal }} IS NULL AND {{ at }} IS NULL THEN
        SELECT pg_catalog.count(*) INTO v_due
          FROM (SELECT 1 FROM {{ table }} AS t WHERE ({{ rule }})
                 ORDER BY {% for col, _ in keys %}t.{{ col }}{{ ', ' if not loop.last }}{% endfor %} LIMIT {{ heap_from }}) AS d;
        v_pages := pg_catalog.pg_relation_size({{ table | literal }}::regclass)
                   / pg_catalog.current_setting('block_size')::bigint;
        IF v_due >= {{ heap_from }} AND v_pages > 0 THEN
            SELECT pg_catalog.count(*) FILTER (WHERE {{ rule }}), pg_catalog.count(*),
                   pg_catalog.count(DISTINCT {{ block }}) FILTER (WHERE {{ rule }})
              INTO v_due, v_rows, v_n
              FROM {{ table }} AS t TABLESAMPLE SYSTEM (LEAST(100, 6400.0 / v_pages)) REPEATABLE (0);
            IF v_due > 0 AND v_due >= 0.2 * v_rows THEN
                v_after := v_after || pg_catalog.jsonb_build_object({{ (key ~ ':heap') | literal }},
                    pg_catalog.jsonb_build_array('(0,0)', v_pages, pg_catalog.round(v_due / v_n, 2)));
            END IF;
        END IF;
    END IF;
    IF {{ at }} IS NOT NULL THEN
        v_ids := '{}';
        v_seen := 0;
        IF v_after -> {{ key | literal }} OPERATOR(pg_catalog.=) '"done"'::jsonb THEN
            NULL;
        ELSIF v_left = 0 THEN
            v_more := true;
        ELSE
            v_tid := ({{ at }} ->> 0)::tid;
            v_to := LEAST(({{ at }} ->> 1)::bigint,  -- the batch's pages end before block v_to
                          (v_tid::text::point)[0]::bigint + 1 + pg_catalog.ceil(v_left / ({{ at }} ->> 2)::numeric)::bigint);
{% for dry in [true, false] %}
            {{ 'IF' if dry else 'ELSE' }}{{ ' p_dry_run THEN' if dry }}
                WITH c AS (
                    SELECT t.ctid AS tid, t.id
                      FROM {{ table }} AS t
                     WHERE t.ctid > v_tid AND t.ctid < pg_catalog.format('(%s,0)', v_to)::tid AND ({{ rule }})
                     ORDER BY t.ctid
                     LIMIT v_left){% if not dry %},
                w AS (
                    UPDATE {{ table }} AS t SET deleted_at = p_now
                     WHERE t.ctid > v_tid AND t.ctid <= (SELECT pg_catalog.max(c.tid) FROM c) AND (SELECT {{ rule }})
                    RETURNING t.id){% endif %}

                SELECT coalesce(pg_catalog.array_agg({{ 'c' if dry else 'w' }}.id), '{}'), (SELECT pg_catalog.count(*) FROM c),
                       (SELECT pg_catalog.max(c.tid) FROM c){% if not dry %},
                       ARRAY(SELECT c.id FROM c EXCEPT SELECT w.id FROM w){% endif %}

                  INTO v_ids, v_seen, v_tid{% if not dry %}, v_moved{% endif %}

                  FROM {{ 'c' if dry else 'w' }};
{% if not dry %}
                -- A candidate the app updated while the write waited for it: its new version
                -- may lie outside the batch's pages, where the write's recheck does not look.
                IF v_moved <> '{}' THEN
                    WITH w AS (
                        UPDATE {{ table }} AS t SET deleted_at = p_now
                         WHERE t.id = ANY (v_moved) AND (SELECT {{ rule }})
                        RETURNING t.id)
                    SELECT v_ids || coalesce(pg_catalog.array_agg(w.id), '{}') INTO v_ids FROM w;
                END IF;
{% endif %}
{% endfor %}
            END IF;
            IF v_left IS NULL OR v_seen < v_left THEN  -- the pages are done
                IF v_to >= ({{ at }} ->> 1)::bigint THEN
                    v_after := v_after || pg_catalog.jsonb_build_object({{ key | literal }}, 'done');
                ELSE
                    v_after := pg_catalog.jsonb_set(v_after, ARRAY[{{ (key ~ ':heap') | literal }}, '0'],
                                                    pg_catalog.to_jsonb(pg_catalog.format('(%s,0)', v_to)));
                    v_more := true;
                END IF;
            ELSE
                v_after := pg_catalog.jsonb_set(v_after, ARRAY[{{ (key ~ ':heap') | literal }}, '0'],
                                                pg_catalog.to_jsonb(v_tid::text));
                v_more := true;
            END IF;
            v_left := v_left - v_seen;
        END IF;
        v_n := pg_catalog.cardinality(v_ids);
{% if record %}
        v_details := v_details || pg_catalog.jsonb_build_object({{ key | literal }}, v_n);
{% endif %}
    ELSE
{% endif %}
{% call select_apply(key, table, rule, keys, record=record, source=source) %}
        w AS (
{% if citus %}
            UPDATE {{ table }} AS t SET deleted_at = p_now
              FROM c
             WHERE t.id = c.id AND ({{ rule }})
{% else %}
            UPDATE {{ table }} AS t SET deleted_at = p_now
             WHERE t.id = ANY (ARRAY(SELECT c.id FROM c)) AND (SELECT {{ rule }})
{% endif %}
            RETURNING t.id)
{% endcall %}
{% if heap and not citus %}
    END IF;
{% endif %}
{% endmacro %}
