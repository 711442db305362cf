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

/**
 * Users and avatar rows kept in memory for a short time in front of another repository, so that
 * serving an avatar and checking the user before an upload need no database round trip while the row
 * is fresh. Measured: one PostgreSQL query per GET held GET throughput at about 0.6× nginx's.
 *
 * <p>Consistency. Writes through this server replace or drop their entry when they commit, so this
 * server reads its own writes at once. A write by another server process sharing the database is
 * seen within {@code ttlSeconds}; until then a stale row can only name a file that the other
 * process has deleted after its commit, and a caller that finds the file gone calls {@link #forget}
 * and reads again. What stays stale for at most {@code ttlSeconds} is what needs no file: a
 * not-modified answer and the avatar's info. A user found once is remembered for {@code ttlSeconds} too;
 * {@link #saveAvatar} locks the user's row in its transaction regardless, so a user deleted meanwhile
 * still fails there with {@code USER_NOT_FOUND}. Absence is never remembered.
 *
 * <p>Order. Commits, their callbacks and reads can reach this cache in any order (20 concurrent
 * replacements complete on several event loops). A user's avatar versions only grow, deletions
 * included (the deleted row's version is the deletion's), so every entry carries its row's version
 * and an entry is only ever replaced by a higher version, or by the deletion of the same version: a
 * late callback or a read begun before a commit never brings an older row back. At most
 * {@code maxEntries} users and as many rows are held; beyond that an arbitrary entry makes room.
 */
public final class CachedAvatarRepository implements AvatarRepository {

  /** {@code avatar} null: the row of {@code version} was deleted through this server (read again). */
  private record Row(Avatar avatar, long version, long storedNanos) {
  }

  private record Found(User user, long storedNanos) {
  }

  private final AvatarRepository database;
  private final long ttlNanos;
  private final int maxEntries;
  private final ConcurrentHashMap<Long, Row> avatars = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, Found> users = new ConcurrentHashMap<>();

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
    Found cached = users.get(id);
    if (cached != null && System.nanoTime() - cached.storedNanos() < ttlNanos) {
      return Future.succeededFuture(cached.user());
    }
    return database.findUser(id).onSuccess(user -> {
      if (user != null) {
        makeRoom(users, id);
        users.put(id, new Found(user, System.nanoTime()));
      }
    });
  }

  @Override
  public Future<Avatar> findAvatar(long userId) {
    Row cached = avatars.get(userId);
    if (cached != null && cached.avatar() != null && System.nanoTime() - cached.storedNanos() < ttlNanos) {
      return Future.succeededFuture(cached.avatar());
    }
    return database.findAvatar(userId).onSuccess(avatar -> {
      if (avatar != null) {
        store(userId, new Row(avatar, avatar.version(), System.nanoTime()));
      }
    });
  }

  @Override
  public Future<SavedAvatar> saveAvatar(long userId, NewAvatar avatar) {
    return database.saveAvatar(userId, avatar).onSuccess(saved ->
      store(userId, new Row(saved.current(), saved.current().version(), System.nanoTime())));
  }

  @Override
  public Future<Avatar> deleteAvatar(long userId) {
    return database.deleteAvatar(userId).onSuccess(deleted -> {
      if (deleted != null) {
        store(userId, new Row(null, deleted.version(), System.nanoTime()));
      }
    });
  }

  /**
   * Makes the next {@link #findAvatar} of the user ask the database: for a caller that found the
   * row's file gone (another server replaced the avatar). The entry's version stays, so that a read
   * begun earlier still cannot bring back an older row.
   */
  public void forget(long userId) {
    avatars.computeIfPresent(userId, (id, row) -> new Row(row.avatar(), row.version(), System.nanoTime() - ttlNanos));
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
  public Future<List<String>> keysAfter(String after, int limit) {
    return database.keysAfter(after, limit);
  }

  @Override
  public Future<SweepLease> trySweepLease() {
    return database.trySweepLease();
  }

  @Override
  public Future<Void> ping() {
    return database.ping();
  }

  @Override
  public Future<Void> close() {
    return database.close();
  }

  /**
   * Puts {@code row} unless the entry there is of a higher version, or is the deletion of the same
   * version (a read begun before the deletion committed). The same row read again refreshes its time.
   */
  private void store(long userId, Row row) {
    makeRoom(avatars, userId);
    avatars.merge(userId, row, (present, candidate) ->
      candidate.version() > present.version()
        || candidate.version() == present.version() && (candidate.avatar() == null || present.avatar() != null)
        ? candidate
        : present);
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
