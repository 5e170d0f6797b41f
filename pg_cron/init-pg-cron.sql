-- Runs once when the container's cluster is created.
CREATE EXTENSION IF NOT EXISTS pg_cron;
