package io.avatarserver.db;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.avatar.SavedAvatar;
import io.avatarserver.avatar.User;
import io.vertx.core.Future;

import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

/**
 * Users and avatar rows kept in memory for a short time in front of another repository, so that
 * serving an avatar and checking the user before an upload need no database round trip while the row
 * is fresh. Measured: one PostgreSQL query per GET held GET throughput at about 0.6× nginx's.
 *
 * <p>Consistency. Writes through this server replace or drop their entry when they commit, so this
 * server reads its own writes at once. A write by another server process sharing the database is
 * seen within {@code ttlSeconds}; until then a stale row can only name a file that the other
 * process has deleted after its commit, and a caller that finds the file gone calls
 * {@link #forgetAvatar} and reads again. What stays stale for at most {@code ttlSeconds} is what
 * needs no file: a {@code 304} and the avatar's info. A user found once is remembered for
 * {@code ttlSeconds} too; {@link #saveAvatar} locks the user's row in its transaction regardless, so
 * a user deleted meanwhile still fails there with {@code USER_NOT_FOUND}. Absence is never
 * remembered.
 *
 * <p>A read that started before a write committed never replaces what that write put: every entry
 * carries the time it was stored, and a read stores its row only if no entry is newer than the read's
 * start. At most {@code maxEntries} users and as many rows are held; beyond that an arbitrary entry
 * makes room.
 */
public final class CachedAvatarRepository implements AvatarRepository {

  private record Entry<T>(T value, long storedNanos) {
  }

  private final AvatarRepository database;
  private final long ttlNanos;
  private final int maxEntries;
  /** value null: deleted through this server (a marker that keeps older reads out), read again. */
  private final ConcurrentHashMap<Long, Entry<Avatar>> avatars = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, Entry<User>> users = new ConcurrentHashMap<>();

  public CachedAvatarRepository(AvatarRepository database, long ttlSeconds, int maxEntries) {
    if (ttlSeconds <= 0 || maxEntries <= 0) {
      throw new IllegalArgumentException("a cache needs a positive lifetime and size; use the database directly");
    }
    this.database = database;
    this.ttlNanos = ttlSeconds * 1_000_000_000L;
    this.maxEntries = maxEntries;
  }

  @Override
  public Future<User> findUser(long id) {
    return read(users, id, database::findUser);
  }

  @Override
  public Future<Avatar> findAvatar(long userId) {
    return read(avatars, userId, database::findAvatar);
  }

  @Override
  public Future<SavedAvatar> saveAvatar(long userId, NewAvatar avatar) {
    return database.saveAvatar(userId, avatar).onSuccess(saved -> written(userId, saved.current()));
  }

  @Override
  public Future<Avatar> deleteAvatar(long userId) {
    return database.deleteAvatar(userId).onSuccess(deleted -> written(userId, null));
  }

  @Override
  public void forgetAvatar(long userId) {
    avatars.remove(userId);
  }

  @Override
  public Future<User> createUser(String name) {
    return database.createUser(name);
  }

  @Override
  public Future<Void> migrate() {
    return database.migrate();
  }

  @Override
  public Future<Set<String>> referenced(List<String> keys) {
    // The sweep decides what to delete: always the database's answer.
    return database.referenced(keys);
  }

  @Override
  public Future<Void> ping() {
    return database.ping();
  }

  @Override
  public Future<Void> close() {
    return database.close();
  }

  /** A fresh entry's value, or the database's answer, stored when it is not absence. */
  private <T> Future<T> read(ConcurrentHashMap<Long, Entry<T>> map, long id, LongFunction<Future<T>> load) {
    long start = System.nanoTime();
    Entry<T> cached = map.get(id);
    if (cached != null && cached.value() != null && start - cached.storedNanos() < ttlNanos) {
      return Future.succeededFuture(cached.value());
    }
    return load.apply(id).onSuccess(value -> {
      if (value != null) {
        makeRoom(map, id);
        // Unless something newer is there: a write that committed after this read began.
        map.compute(id, (key, present) -> present != null && present.storedNanos() - start > 0
          ? present
          : new Entry<>(value, System.nanoTime()));
      }
    });
  }

  /**
   * What a committed write leaves: its row (or the deletion), put unconditionally, so that it wins
   * over every read begun before it.
   */
  private void written(long userId, Avatar current) {
    makeRoom(avatars, userId);
    avatars.put(userId, new Entry<>(current, System.nanoTime()));
  }

  /** Before adding {@code id}: when the map is full, an arbitrary entry makes room. */
  private void makeRoom(ConcurrentHashMap<Long, ?> map, long id) {
    if (map.size() >= maxEntries && !map.containsKey(id)) {
      Iterator<Long> keys = map.keySet().iterator();
      if (keys.hasNext()) {
        keys.next();
        keys.remove();
      }
    }
  }
}
