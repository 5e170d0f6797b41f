{#
  Indexes cleanup needs beyond SnapBet's own (deployer/indexes.py builds them CONCURRENTLY):
  notifications past their retention are found by age, not by reading every notification;
  group chats by creation, for the chats that can have become due since the previous run.
#}
-- Notifications by age.
CREATE INDEX CONCURRENTLY jobset_notifications_created_idx
    ON {{ app_schema | ident }}.notifications (created_at, id);

-- Group chats by creation: those whose grace ended since the previous run (SnapBet's
-- idx_chats_last_message serves the other half of the chats' window).
CREATE INDEX CONCURRENTLY jobset_chats_group_created_idx
    ON {{ app_schema | ident }}.chats (created_at) WHERE chat_type = 'group';
