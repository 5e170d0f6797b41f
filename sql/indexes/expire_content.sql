{#
  Indexes expire_content needs beyond SnapBet's own, so that an hourly run costs what it
  expires, not what the tables hold. SnapBet already has (expires_at) WHERE deleted_at IS
  NULL on posts, stories and messages, which serves the content, story and message phases.
  Built CONCURRENTLY by the deployer after its transaction (deployer/indexes.py).
#}
{% set app = app_schema | ident %}
-- Live picks in the order the picks phase walks them: the phase looks up each one's game,
-- so it must walk only live picks, not every live post.
CREATE INDEX CONCURRENTLY jobset_posts_live_picks_idx
    ON {{ app }}.posts (expires_at, id) WHERE deleted_at IS NULL AND post_type = 'pick';

-- Soft-deleted rows by deletion time: the hard deletes, and the posts whose comments go.
CREATE INDEX CONCURRENTLY jobset_posts_soft_deleted_idx
    ON {{ app }}.posts (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY jobset_stories_soft_deleted_idx
    ON {{ app }}.stories (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY jobset_messages_soft_deleted_idx
    ON {{ app }}.messages (deleted_at, id) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY jobset_comments_soft_deleted_idx
    ON {{ app }}.comments (deleted_at, id) WHERE deleted_at IS NOT NULL;

-- Live comments by post, in the order the comments phase walks them.
CREATE INDEX CONCURRENTLY jobset_comments_live_by_post_idx
    ON {{ app }}.comments (post_id, id) WHERE deleted_at IS NULL;
