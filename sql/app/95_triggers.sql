{#
  SnapBet's triggers on the tables the jobs write (docs/rules.md: The app's data), with
  SnapBet's trigger and function names, timings, events and effects (supabase/migrations
  001, 008, 010, 015, 021, 029).

  Written the way SnapBet writes them, on purpose: plain plpgsql, SECURITY INVOKER (the
  default), no SET search_path, and table names WITHOUT a schema in the bodies. A body
  finds its tables through the search_path of whoever fired it, so a job must run with the
  app schema on its path (docs/rules.md: The runner). Only the functions' own names and the ON clauses of
  CREATE TRIGGER carry the app schema. Do not qualify the bodies or pin their search_path:
  the point is to behave exactly like SnapBet's database.

  Idempotent: CREATE OR REPLACE FUNCTION and CREATE OR REPLACE TRIGGER (PostgreSQL 14+).
  SnapBet's behaviour is kept where it surprises, and said so below: comments are counted
  by two triggers, counters other than comment_count are not floored at 0.
#}
{% set app = app_schema | ident %}
-- updated_at = now() on every update of a user or a bankroll.
CREATE OR REPLACE FUNCTION {{ app }}.update_updated_at_column()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* BEFORE UPDATE: the row is stamped with the transaction's time, whatever the
       UPDATE itself set updated_at to. */
    NEW.updated_at := now();
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_updated_at_column() IS
    'SnapBet trigger: updated_at = now() (update_users_updated_at, update_bankrolls_updated_at)';

CREATE OR REPLACE TRIGGER update_users_updated_at
    BEFORE UPDATE ON {{ app }}.users
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_updated_at_column();

CREATE OR REPLACE TRIGGER update_bankrolls_updated_at
    BEFORE UPDATE ON {{ app }}.bankrolls
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_updated_at_column();

-- season_high / season_low follow the balance when it passes them.
CREATE OR REPLACE FUNCTION {{ app }}.update_bankroll_stats()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* BEFORE UPDATE OF balance: compared with the row as the UPDATE leaves it, so an
       UPDATE that sets season_high / season_low itself (a weekly reset) keeps its values
       unless the new balance passes them. A NULL high or low stays NULL. */
    IF NEW.balance > NEW.season_high THEN
        NEW.season_high := NEW.balance;
    END IF;
    IF NEW.balance < NEW.season_low THEN
        NEW.season_low := NEW.balance;
    END IF;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_bankroll_stats() IS
    'SnapBet trigger: season_high / season_low follow the new balance (update_bankroll_high_low)';

CREATE OR REPLACE TRIGGER update_bankroll_high_low
    BEFORE UPDATE OF balance ON {{ app }}.bankrolls
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_bankroll_stats();

-- posts.comment_count, first of SnapBet's two comment counters (migration 008).
CREATE OR REPLACE FUNCTION {{ app }}.update_comment_count()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER INSERT OR DELETE on comments: +1 for a new comment, -1 (never below 0) for a
       deleted one. Soft deletes are not seen here. */
    IF TG_OP = 'INSERT' THEN
        UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE posts SET comment_count = greatest(comment_count - 1, 0) WHERE id = OLD.post_id;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_comment_count() IS
    'SnapBet trigger: posts.comment_count +1 / -1 floored at 0 (update_comment_count_trigger)';

CREATE OR REPLACE TRIGGER update_comment_count_trigger
    AFTER INSERT OR DELETE ON {{ app }}.comments
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_comment_count();

-- posts.comment_count again (migration 010, which did not drop the first): SnapBet really
-- has both, so an insert counts twice and a hard delete takes two off (floored at 0).
CREATE OR REPLACE FUNCTION {{ app }}.update_post_comment_count()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER INSERT OR DELETE OR UPDATE OF deleted_at on comments: +1 for a new comment,
       -1 (floored at 0) for a deleted one, -1 when a comment is soft-deleted and +1 when
       it is restored. A NULL count counts as 0. */
    IF TG_OP = 'INSERT' THEN
        UPDATE posts SET comment_count = coalesce(comment_count, 0) + 1 WHERE id = NEW.post_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE posts SET comment_count = greatest(coalesce(comment_count, 0) - 1, 0) WHERE id = OLD.post_id;
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        UPDATE posts SET comment_count = greatest(coalesce(comment_count, 0) - 1, 0) WHERE id = NEW.post_id;
    ELSIF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        UPDATE posts SET comment_count = coalesce(comment_count, 0) + 1 WHERE id = NEW.post_id;
    END IF;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_post_comment_count() IS
    'SnapBet trigger: posts.comment_count +1 / -1, and -1 / +1 on soft delete / restore'
    ' (update_post_comment_count_trigger)';

CREATE OR REPLACE TRIGGER update_post_comment_count_trigger
    AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON {{ app }}.comments
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_post_comment_count();

-- posts.reaction_count.
CREATE OR REPLACE FUNCTION {{ app }}.update_reaction_count()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER INSERT OR DELETE on reactions: +1 / -1, not floored: a count already at 0
       fails posts_reaction_count_check, as in SnapBet. */
    IF TG_OP = 'INSERT' THEN
        UPDATE posts SET reaction_count = reaction_count + 1 WHERE id = NEW.post_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE posts SET reaction_count = reaction_count - 1 WHERE id = OLD.post_id;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_reaction_count() IS
    'SnapBet trigger: posts.reaction_count +1 / -1 (update_post_reaction_count)';

CREATE OR REPLACE TRIGGER update_post_reaction_count
    AFTER INSERT OR DELETE ON {{ app }}.reactions
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_reaction_count();

-- posts.tail_count / fade_count.
CREATE OR REPLACE FUNCTION {{ app }}.update_post_counts()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER INSERT OR DELETE on pick_actions: the counter of the action's kind +1 / -1,
       not floored. */
    IF TG_OP = 'INSERT' THEN
        IF NEW.action_type = 'tail' THEN
            UPDATE posts SET tail_count = tail_count + 1 WHERE id = NEW.post_id;
        ELSIF NEW.action_type = 'fade' THEN
            UPDATE posts SET fade_count = fade_count + 1 WHERE id = NEW.post_id;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.action_type = 'tail' THEN
            UPDATE posts SET tail_count = tail_count - 1 WHERE id = OLD.post_id;
        ELSIF OLD.action_type = 'fade' THEN
            UPDATE posts SET fade_count = fade_count - 1 WHERE id = OLD.post_id;
        END IF;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_post_counts() IS
    'SnapBet trigger: posts.tail_count / fade_count +1 / -1 (update_post_pick_counts)';

CREATE OR REPLACE TRIGGER update_post_pick_counts
    AFTER INSERT OR DELETE ON {{ app }}.pick_actions
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_post_counts();

-- stories.view_count.
CREATE OR REPLACE FUNCTION {{ app }}.increment_story_views()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER INSERT on story_views: the story's view_count + 1. */
    UPDATE stories SET view_count = view_count + 1 WHERE id = NEW.story_id;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.increment_story_views() IS
    'SnapBet trigger: stories.view_count + 1 (increment_story_view_count)';

CREATE OR REPLACE TRIGGER increment_story_view_count
    AFTER INSERT ON {{ app }}.story_views
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.increment_story_views();

-- chats.last_message_at.
CREATE OR REPLACE FUNCTION {{ app }}.update_chat_last_message()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER INSERT on messages: the chat's last_message_at = the new message's
       created_at, even when that is earlier than the one already there. */
    UPDATE chats SET last_message_at = NEW.created_at WHERE id = NEW.chat_id;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_chat_last_message() IS
    'SnapBet trigger: chats.last_message_at = the new message''s created_at (update_chat_last_message_time)';

CREATE OR REPLACE TRIGGER update_chat_last_message_time
    AFTER INSERT ON {{ app }}.messages
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_chat_last_message();

-- users.referral_count.
CREATE OR REPLACE FUNCTION {{ app }}.update_referral_count()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER INSERT on referrals: the referrer's referral_count + 1 (which also stamps
       the referrer's updated_at, through update_users_updated_at). */
    UPDATE users SET referral_count = referral_count + 1 WHERE id = NEW.referrer_id;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.update_referral_count() IS
    'SnapBet trigger: users.referral_count + 1 for the referrer (trigger_update_referral_count)';

CREATE OR REPLACE TRIGGER trigger_update_referral_count
    AFTER INSERT ON {{ app }}.referrals
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.update_referral_count();

-- A member leaves a group chat: a system message, and an admin when none is left.
CREATE OR REPLACE FUNCTION {{ app }}.handle_chat_member_removal()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_chat_type  chat_type;
    v_username   text;
    v_admins     integer;
    v_successor  uuid;
BEGIN
    /* AFTER DELETE on chat_members, group chats only (a chat already deleted, as in a
       cascade from chats, has no type and is skipped): the system user
       00000000-0000-0000-0000-000000000000 writes "<username> left the group"; when the
       member was an admin and no admin is left, the member who joined first becomes one.
       A member without a username makes the message's content NULL, which messages
       refuses, as in SnapBet. */
    SELECT c.chat_type INTO v_chat_type FROM chats AS c WHERE c.id = OLD.chat_id;
    IF v_chat_type IS DISTINCT FROM 'group' THEN
        RETURN OLD;
    END IF;

    SELECT u.username INTO v_username FROM users AS u WHERE u.id = OLD.user_id;
    INSERT INTO messages (chat_id, sender_id, content, message_type, metadata)
    VALUES (OLD.chat_id, '00000000-0000-0000-0000-000000000000', v_username || ' left the group', 'system',
            jsonb_build_object('action', 'member_removed', 'target_id', OLD.user_id,
                               'target_username', v_username));

    IF OLD.role = 'admin' THEN
        SELECT count(*) INTO v_admins FROM chat_members AS m WHERE m.chat_id = OLD.chat_id AND m.role = 'admin';
        IF v_admins = 0 THEN
            SELECT m.user_id INTO v_successor
              FROM chat_members AS m
             WHERE m.chat_id = OLD.chat_id
             ORDER BY m.joined_at, m.user_id
             LIMIT 1;
            IF v_successor IS NOT NULL THEN
                UPDATE chat_members SET role = 'admin' WHERE chat_id = OLD.chat_id AND user_id = v_successor;
            END IF;
        END IF;
    END IF;
    RETURN OLD;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.handle_chat_member_removal() IS
    'SnapBet trigger: "<username> left the group" from the system user; the oldest member'
    ' becomes admin when none is left (chat_member_removal_trigger)';

CREATE OR REPLACE TRIGGER chat_member_removal_trigger
    AFTER DELETE ON {{ app }}.chat_members
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.handle_chat_member_removal();

-- A chat whose last member left is deleted (after SnapBet's 0.1 s pause).
CREATE OR REPLACE FUNCTION {{ app }}.cleanup_empty_chats()
RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    /* AFTER DELETE on chat_members, any chat type: sleeps 0.1 s (SnapBet's pause "for
       batch operations": every deleted member row costs it), then deletes the chat if
       it has no members left. Runs after chat_member_removal_trigger (triggers fire in
       name order), so the chat goes with the system message just written. */
    PERFORM pg_sleep(0.1);
    DELETE FROM chats AS c
     WHERE c.id = OLD.chat_id
       AND NOT EXISTS (SELECT 1 FROM chat_members AS m WHERE m.chat_id = OLD.chat_id);
    RETURN OLD;
END
$fn$;
COMMENT ON FUNCTION {{ app }}.cleanup_empty_chats() IS
    'SnapBet trigger: after 0.1 s, deletes the chat if no member is left (cleanup_empty_chats_trigger)';

CREATE OR REPLACE TRIGGER cleanup_empty_chats_trigger
    AFTER DELETE ON {{ app }}.chat_members
    FOR EACH ROW EXECUTE FUNCTION {{ app }}.cleanup_empty_chats();
