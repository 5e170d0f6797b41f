{# The part of Supabase Storage the jobs read: one row per uploaded file. On Supabase the
   table already exists and this statement does nothing. #}
-- Supabase Storage: bucket_id is the bucket, name the path inside it.
CREATE TABLE IF NOT EXISTS {{ storage_schema | ident }}.objects (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id   text,
    name        text,
    owner       uuid,
    created_at  timestamptz DEFAULT now(),
    metadata    jsonb
);
