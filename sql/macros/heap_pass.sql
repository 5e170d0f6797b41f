{#
  heap_pass(key, table, rule, keys, write, record, ids): a phase over `table` itself (a soft or
  hard delete by the rule's keys, whose walk is the caller's body) that makes one pass over
  the heap instead when most of the table is due: a backlog, after an outage, a restore or
  on a first run. The walk by keys visits each due row's page, then finds it again by key to
  write it, against one read of each page for the bare statement (bench/README.md:
  vs_bare); the pass goes batch by batch over ranges of pages in physical order (TID range
  scans) and costs about what the bare statement does.

  Chosen when the phase starts, by the first batch with room left for it (not by each batch
  the earlier phases fill): with at least 1,000 rows due (counted by the rule's keys, up to
  1,000, so an hourly run pays one short index read), a sample of about 64 of the table's
  pages (TABLESAMPLE, repeatable, so a dry run chooses as the real run does) must hold at
  least a fifth of its rows due. A batch takes the first v_left due rows after its position
  (a TID) within as many pages as should hold them, and `write`s (`UPDATE <table> AS t SET …`
  or `DELETE FROM <table> AS t`) every row between its position and the last of them that
  still matches the rule when the write reaches it; a candidate the app updated meanwhile is
  rechecked where its new version is, which may be outside the batch's pages: by key, after
  the batch's write. The position, the pages' end (the table's size when the phase started)
  and the due rows a page holds go in `next` under `<key>:heap`. So the order is the heap's,
  not the rule's keys'; a row the app moves to a page the pass has left is seen by the next
  run. On Citus the walk only.

  The walk's writes leave index entries behind. The rule's partial indexes (`deleted_at IS
  NULL`) keep an entry for a soft-deleted row's old version, and every index keeps one for a
  hard-deleted row, until a scan finds the row dead to every transaction and marks the entry
  (or a vacuum removes it). The first scan of the rule's keys after the writes commit visits
  each such entry's heap page. Left alone, that is the next run's count: at 10M posts, the
  6,333 posts the run before deleted cost 11,324 buffers, about 15 of the 60 ms of that run
  with nothing to do (bench/README.md: Figures: a run marks the index entries its deletions
  leave). So a run pays for its own: in the
  batch where its walk is done, if the walk wrote rows in an earlier batch (`<key>:swept`),
  whose commit made them dead, the batch runs the count again, which marks their entries.
  The rows written in the batch itself wait for the run's next batch, if it has one, or for
  the next run: that run meets the entries of at most one batch's writes a phase. The count
  reads every row the walk wrote in one statement, outside the batch's limit. It marks
  nothing while an older transaction holds back the horizon of dead rows (then the next run
  pays too). A dry run keeps `<key>:swept` as the real run does, as its `next` is the real
  run's, but counts nothing.

  Needs, beside select_apply's, the locals heap_locals() declares (v_moved of the table's
  key type). Import with context.
#}
{% macro heap_locals(pk='uuid') %}
{% if not citus %}
    v_tid       tid;
    v_rows      numeric;
    v_due       numeric;
    v_pages     bigint;
    v_to        bigint;
    v_moved     {{ pk }}[];
{% endif %}
{% endmacro %}
{% from "macros/position.sql" import walk %}
{% macro heap_pass(key, table, rule, keys, write, record=true, ids='v_ids') %}
{% if citus %}
{{ caller() }}
{% else %}
{% set heap_from = 1000 %}
{% set at = 'v_after -> ' ~ ((key ~ ':heap') | literal) %}
{% set block = "(t.ctid::text::point)[0]" %}
{% set swept = (key ~ ':swept') | literal %}
{% set count_due %}
        SELECT pg_catalog.count(*) INTO v_due
          FROM (SELECT 1 FROM {{ table }} AS t WHERE ({{ rule }})
                 ORDER BY {% for col, _ in keys %}t.{{ col }}{{ ', ' if not loop.last }}{% endfor %} LIMIT {{ heap_from }}) AS d;
{% endset %}
    -- {{ key }}: one pass over the heap when most of the table is due, or by the rule's keys;
    -- chosen by the batch where the phase starts, not by each batch the earlier phases fill
    IF v_after -> {{ key | literal }} IS NULL AND {{ at }} IS NULL AND v_left IS DISTINCT FROM 0 THEN
{{ count_due.rstrip() }}
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
{% call walk(key, ids, own_position=true) %}
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
                {{ write }}
                 WHERE t.ctid > v_tid AND t.ctid <= (SELECT pg_catalog.max(c.tid) FROM c) AND (SELECT {{ rule }})
                RETURNING t.id){% endif %}

            SELECT coalesce(pg_catalog.array_agg({{ 'c' if dry else 'w' }}.id), '{}'), (SELECT pg_catalog.count(*) FROM c),
                   (SELECT pg_catalog.max(c.tid) FROM c){% if not dry %},
                   CASE WHEN pg_catalog.count(*) < (SELECT pg_catalog.count(*) FROM c)
                        THEN ARRAY(SELECT c.id FROM c EXCEPT SELECT w.id FROM w) ELSE '{}' END{% endif %}

              INTO {{ ids }}, v_seen, v_tid{% if not dry %}, v_moved{% endif %}

              FROM {{ 'c' if dry else 'w' }};
{% if not dry %}
            -- A candidate the app updated while the write waited for it: its new version
            -- may lie outside the batch's pages, where the write's recheck does not look.
            IF v_moved <> '{}' THEN
                WITH w AS (
                    {{ write }}
                     WHERE t.id = ANY (v_moved) AND (SELECT {{ rule }})
                    RETURNING t.id)
                SELECT {{ ids }} || coalesce(pg_catalog.array_agg(w.id), '{}') INTO {{ ids }} FROM w;
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
{% endcall %}
        v_n := pg_catalog.cardinality({{ ids }});
{% if record %}
        v_details := v_details || pg_catalog.jsonb_build_object({{ key | literal }}, v_n);
{% endif %}
    ELSE
{{ caller() }}
        -- The walk done, the index entries of the rows it wrote in earlier batches of this run
        -- (committed) are read and marked dead here, not by the next run.
        IF v_after ? {{ swept }} AND v_after -> {{ key | literal }} OPERATOR(pg_catalog.=) '"done"'::jsonb THEN
            IF NOT p_dry_run THEN
{{ count_due.rstrip() | indent(8, first=True) }}
            END IF;
            v_after := v_after - {{ swept }};
        END IF;
        IF pg_catalog.cardinality({{ ids }}) > 0 THEN
            v_after := v_after || pg_catalog.jsonb_build_object({{ swept }}, true);
        END IF;
    END IF;
{% endif %}
{% endmacro %}
