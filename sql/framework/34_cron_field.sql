{#
  One field of a pg_cron schedule, as pg_cron reads it (35_cron_fire.sql says how, by version).
#}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.cron_field(
    p_field   text,
    p_lo      integer,
    p_hi      integer,
    p_names   text[],
    p_version text
)
RETURNS bigint
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_rest  text := p_field;  -- what is left to read of the field
    v_bits  bigint := 0;
    v_m     text[];
    v_tok   text;
    v_num   integer[] := ARRAY[NULL, NULL, NULL]::integer[];  -- the range's numbers: from, to, step
    v_first integer;
    v_last  integer;
    v_step  integer;
    v_s     integer;
    v_e     integer;
BEGIN
    /* One field as pg_cron's get_list reads it (p_field: the field's characters up to the
       next blank or newline; p_lo, p_hi: its bounds; p_names: its names, lower case, the
       first at p_lo): the bits of the values it allows, bit 0 for p_lo; NULL where pg_cron
       refuses it. Ranges are read one by one while a `,` follows; what follows a range
       otherwise is skipped. A number is a run of ASCII letters and digits: a name (not in
       a step), or digits read by C's atoi (32 bits, wrapping). */
    LOOP
        -- `*` or a number, then `-` and a number, then `/` and a step; and the rest.
        v_m := pg_catalog.regexp_match(v_rest,
            '^(?:(\*)|([A-Za-z0-9]*)(?:(-)([A-Za-z0-9]*))?)(?:(/)([A-Za-z0-9]*))?(.*)$');
        FOR i IN 1..3 LOOP
            v_tok := v_m[2 * i];
            v_num[i] := CASE
                WHEN i < 3 AND pg_catalog.array_position(p_names, pg_catalog.lower(v_tok)) IS NOT NULL
                    THEN pg_catalog.array_position(p_names, pg_catalog.lower(v_tok)) - 1 + p_lo
                WHEN v_tok ~ '^[0-9]+$'
                    THEN ((LEAST(v_tok::numeric, 9223372036854775807) + 2147483648) % 4294967296 - 2147483648)::integer
            END;
        END LOOP;
        v_rest := v_m[7];
        v_step := CASE WHEN v_m[5] IS NULL THEN 1 ELSE v_num[3] END;
        IF v_m[1] IS NOT NULL THEN
            v_first := p_lo;
            v_last := p_hi;
        ELSIF v_num[1] IS NULL OR (v_m[3] IS NOT NULL AND v_num[2] IS NULL) THEN
            RETURN NULL;
        ELSIF v_m[3] IS NULL THEN
            -- A single number: a step needs a range.
            IF v_m[5] IS NOT NULL OR v_num[1] NOT BETWEEN p_lo AND p_hi THEN
                RETURN NULL;
            END IF;
            v_first := v_num[1];
            v_last := v_num[1];
        ELSE
            v_first := v_num[1];
            v_last := v_num[2];
        END IF;
        IF v_step IS NULL OR v_step <= 0 OR v_first NOT BETWEEN p_lo AND p_hi OR v_last NOT BETWEEN p_lo AND p_hi
           OR (p_version >= '1.6' AND v_step > p_hi) THEN
            RETURN NULL;
        END IF;
        v_s := v_first - p_lo;
        v_e := v_last - p_lo;
        IF p_version >= '1.6' AND v_step = 1 THEN
            -- bit_nset, byte by byte: from the start to the end of its byte, whole bytes
            -- between, from the start of the end's byte to the end (a reversed range too).
            IF v_s / 8 = v_e / 8 THEN
                v_bits := v_bits | (((255 << (v_s % 8)) & (255 >> (7 - v_e % 8)) & 255)::bigint << (8 * (v_s / 8)));
            ELSE
                v_bits := v_bits | (((255 << (v_s % 8)) & 255)::bigint << (8 * (v_s / 8)))
                                 | ((255 >> (7 - v_e % 8))::bigint << (8 * (v_e / 8)));
                FOR i IN v_s / 8 + 1 .. v_e / 8 - 1 LOOP
                    v_bits := v_bits | (255::bigint << (8 * i));
                END LOOP;
            END IF;
        ELSE
            FOR i IN v_s .. v_e BY v_step LOOP
                v_bits := v_bits | (1::bigint << i);
            END LOOP;
        END IF;
        EXIT WHEN NOT pg_catalog.starts_with(v_rest, ',');
        v_rest := pg_catalog.substr(v_rest, 2);
    END LOOP;
    RETURN v_bits;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_field(text, integer, integer, text[], text) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_field(text, integer, integer, text[], text) IS
    'One field of a pg_cron schedule as pg_cron (p_version: 1.4, 1.5, 1.6) reads it: the bits of the values it allows, or NULL where pg_cron refuses it';
