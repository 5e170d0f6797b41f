{# The job set's own schema. Nothing in it is usable by PUBLIC. #}
CREATE SCHEMA IF NOT EXISTS {{ jobs_schema | ident }};
REVOKE ALL ON SCHEMA {{ jobs_schema | ident }} FROM PUBLIC;
COMMENT ON SCHEMA {{ jobs_schema | ident }} IS 'SnapBet job set: scheduled jobs, their runner and their history';
