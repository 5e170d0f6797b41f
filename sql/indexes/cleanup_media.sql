{#
  Indexes cleanup_media and the purge need beyond SnapBet's own (deployer/indexes.py builds
  them CONCURRENTLY): "does a URL end with /<bucket>/<name>" is a prefix test on the
  reversed URL, answered by one index probe per column instead of a scan of the table.
#}
{% set app = app_schema | ident %}
-- Each URL column by its reversed text, compared bytewise.
CREATE INDEX CONCURRENTLY jobset_posts_media_url_rev_idx
    ON {{ app }}.posts ((reverse(media_url) COLLATE "C"));
CREATE INDEX CONCURRENTLY jobset_posts_thumbnail_url_rev_idx
    ON {{ app }}.posts ((reverse(thumbnail_url) COLLATE "C"));
CREATE INDEX CONCURRENTLY jobset_messages_media_url_rev_idx
    ON {{ app }}.messages ((reverse(media_url) COLLATE "C"));
CREATE INDEX CONCURRENTLY jobset_stories_media_url_rev_idx
    ON {{ app }}.stories ((reverse(media_url) COLLATE "C"));
CREATE INDEX CONCURRENTLY jobset_users_avatar_url_rev_idx
    ON {{ app }}.users ((reverse(avatar_url) COLLATE "C"));
