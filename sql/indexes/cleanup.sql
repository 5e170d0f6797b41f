{#
  Indexes cleanup needs beyond SnapBet's own (deployer/indexes.py builds them CONCURRENTLY):
  notifications past their retention are found by age, not by reading every notification.
#}
-- Notifications by age.
CREATE INDEX CONCURRENTLY jobset_notifications_created_idx
    ON {{ app_schema | ident }}.notifications (created_at, id);
