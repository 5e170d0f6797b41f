{# The job set's own schema. Nothing in it is usable by PUBLIC. #}
{% set js = jobs_schema | ident %}
CREATE SCHEMA IF NOT EXISTS {{ js }};
REVOKE ALL ON SCHEMA {{ js }} FROM PUBLIC;
COMMENT ON SCHEMA {{ js }} IS 'SnapBet job set: scheduled jobs, their runner and their history';
