package io.avatarserver.avatar;

import io.vertx.core.Future;

import java.util.List;
import java.util.Set;

/**
 * Users and their avatar rows. Every method fails with a {@code AvatarException(DATABASE_UNAVAILABLE)}
 * when the database cannot be reached or fails for reasons of its own; the unhappy paths specific to
 * each method are named on it. Two implementations: reactive PostgreSQL and JDBC (embedded H2).
 */
public interface AvatarRepository {

  /** Creates or migrates the schema. Fails when the database is unusable. */
  Future<Void> migrate();

  /** Creates a user and succeeds with it, id assigned. */
  Future<User> createUser(String name);

  /** Succeeds with the user, or with null when there is no such user. */
  Future<User> findUser(long id);

  /** Succeeds with the user's current avatar row, or with null when the user has none (or does not exist). */
  Future<Avatar> findAvatar(long userId);

  /**
   * Makes {@code avatar} the user's current avatar in one transaction and succeeds only after the
   * commit, with the new row (version one more than the last version the user was given, so a user's
   * versions never repeat, across deletes too) and the replaced row. Saves and deletes for one user are
   * serialised: each sees the row the previous one committed.
   * Fails with {@code AvatarException(USER_NOT_FOUND)} when the user does not exist (any more).
   */
  Future<SavedAvatar> saveAvatar(long userId, NewAvatar avatar);

  /** Deletes the user's avatar row and succeeds with it after the commit, or with null when there was none. */
  Future<Avatar> deleteAvatar(long userId);

  /** Those of {@code keys} (a bounded page) that a row references; for the recovery sweep. */
  Future<Set<String>> referenced(List<String> keys);

  /**
   * The storage keys of avatar rows that sort after {@code after} ("" for the first page), in order,
   * at most {@code limit} of them; for the recovery sweep's check that every row's object exists.
   */
  Future<List<String>> keysAfter(String after, int limit);

  /**
   * Tries to make this server instance the one that sweeps the stored objects now: several instances
   * may share the database and the store, and one sweep at a time is enough. Succeeds with the lease,
   * to {@link SweepLease#release} once the sweep is done, or with null when another instance holds it.
   * On PostgreSQL a session advisory lock on a connection of its own, so that it dies with the
   * instance (or its connection); a database that one process alone opens (embedded H2, by its file
   * lock) always grants it, which is this default.
   */
  default Future<SweepLease> trySweepLease() {
    return Future.succeededFuture(SweepLease.ALONE);
  }

  /** The right to sweep the stored objects, held until released or lost with its connection. */
  interface SweepLease {

    /** The lease of the only instance there can be: always held, nothing to release. */
    SweepLease ALONE = new SweepLease() {
      @Override
      public boolean held() {
        return true;
      }

      @Override
      public Future<Void> release() {
        return Future.succeededFuture();
      }
    };

    /** False once released, or lost because its connection closed: another instance may sweep now. */
    boolean held();

    /** Gives the lease up; succeeds when it is gone (also when it was lost before). */
    Future<Void> release();
  }

  /** Succeeds when a trivial query round-trips. */
  Future<Void> ping();

  /** Closes the pool. */
  Future<Void> close();
}
