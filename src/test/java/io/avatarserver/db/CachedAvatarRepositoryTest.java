package io.avatarserver.db;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.avatar.SavedAvatar;
import io.avatarserver.avatar.User;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The row cache when the database's answers reach it out of order, as they do when concurrent
 * replacements commit on several event loops: the database here answers when the test says so.
 */
@DisplayName("Row cache: commits and reads completing out of order never leave an older row cached")
class CachedAvatarRepositoryTest {

  private static final long USER = 7;

  /** A database whose saves, deletes and reads complete only when the test completes them. */
  private static final class Database implements AvatarRepository {
    final Deque<Promise<SavedAvatar>> saves = new ArrayDeque<>();
    final Deque<Promise<Avatar>> deletes = new ArrayDeque<>();
    final Deque<Promise<Avatar>> reads = new ArrayDeque<>();

    @Override
    public Future<SavedAvatar> saveAvatar(long userId, NewAvatar avatar) {
      Promise<SavedAvatar> p = Promise.promise();
      saves.add(p);
      return p.future();
    }

    @Override
    public Future<Avatar> deleteAvatar(long userId) {
      Promise<Avatar> p = Promise.promise();
      deletes.add(p);
      return p.future();
    }

    @Override
    public Future<Avatar> findAvatar(long userId) {
      Promise<Avatar> p = Promise.promise();
      reads.add(p);
      return p.future();
    }

    @Override
    public Future<Void> migrate() {
      return Future.succeededFuture();
    }

    @Override
    public Future<User> createUser(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<User> findUser(long id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<Set<String>> referenced(List<String> keys) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<List<String>> keysAfter(String after, int limit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<Void> ping() {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  }

  private static Avatar row(long version) {
    return new Avatar(USER, "07/7-v" + version + ".png", "image/png", 100 + version, "sha-" + version, 1, 1, version,
      Instant.now());
  }

  private static NewAvatar upload() {
    return new NewAvatar("k", "image/png", 1, "s", 1, 1);
  }

  private final Database database = new Database();
  private final CachedAvatarRepository cache = new CachedAvatarRepository(database, 3600, 100);

  /** What the cache answers now, completing a database read with {@code databaseRow} if it asks. */
  private Avatar cached(Avatar databaseRow) {
    Future<Avatar> found = cache.findAvatar(USER);
    if (!database.reads.isEmpty()) {
      database.reads.poll().complete(databaseRow);
    }
    return found.result();
  }

  @Test
  @DisplayName("Two replacements whose commit callbacks arrive newest first: the newest row stays")
  void savesCompletingOutOfOrder() {
    cache.saveAvatar(USER, upload());
    cache.saveAvatar(USER, upload());
    Promise<SavedAvatar> older = database.saves.poll();
    Promise<SavedAvatar> newer = database.saves.poll();
    newer.complete(new SavedAvatar(row(3), row(2)));
    older.complete(new SavedAvatar(row(2), row(1)));

    assertEquals(row(3).storageKey(), cached(null).storageKey(), "served from the cache, version 3");
    assertEquals(3, cached(null).version());
  }

  @Test
  @DisplayName("A deletion whose callback arrives before the save of the row it deleted: the avatar stays deleted")
  void deletionBeforeTheLateSaveCallback() {
    cache.saveAvatar(USER, upload());
    cache.deleteAvatar(USER);
    database.deletes.poll().complete(row(4));
    database.saves.poll().complete(new SavedAvatar(row(4), row(3)));

    assertNull(cached(null), "the database (no row) is asked, not the cache");
  }

  @Test
  @DisplayName("A read begun before a replacement committed and answered after it: the replacement stays")
  void readOlderThanTheWrite() {
    Future<Avatar> read = cache.findAvatar(USER);
    cache.saveAvatar(USER, upload());
    database.saves.poll().complete(new SavedAvatar(row(6), row(5)));
    database.reads.poll().complete(row(5));
    assertEquals(5, read.result().version(), "the read answers what it read");

    assertEquals(6, cached(row(5)).version());
  }

  @Test
  @DisplayName("A row forgotten (its file was gone) is read again, and a newer row read then replaces it")
  void forget() {
    cache.saveAvatar(USER, upload());
    database.saves.poll().complete(new SavedAvatar(row(1), null));
    cache.forget(USER);

    assertEquals(2, cached(row(2)).version(), "read from the database");
    assertEquals(2, cached(null).version(), "and cached");
  }
}
