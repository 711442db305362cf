package io.avatarserver.db;

import io.avatarserver.avatar.Avatar;
import io.avatarserver.avatar.AvatarRepository;
import io.avatarserver.avatar.NewAvatar;
import io.avatarserver.avatar.SavedAvatar;
import io.avatarserver.avatar.User;
import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.AvatarException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The repository logic both dialects share, on the Vert.x SQL client API that the reactive
 * PostgreSQL pool and the JDBC pool both implement. Subclasses bring the pool, the dialect's
 * {@link SqlQueries} and the recognition of a foreign-key violation.
 */
abstract class SqlAvatarRepository implements AvatarRepository {

  private static final Logger LOG = LoggerFactory.getLogger(SqlAvatarRepository.class);

  private final Pool pool;
  private final SqlQueries sql;

  SqlAvatarRepository(Pool pool, SqlQueries sql) {
    this.pool = pool;
    this.sql = sql;
  }

  /** True when {@code failure} says a referenced row (the user) does not exist. */
  protected abstract boolean isForeignKeyViolation(Throwable failure);

  /** True when {@code failure} is a unique-constraint violation (SQLSTATE 23505). */
  protected abstract boolean isUniqueViolation(Throwable failure);

  /** The {@code variants} table on this repository's pool and dialect. */
  public io.avatarserver.variant.VariantRepository variants() {
    return new SqlVariantRepository(pool, sql.numberedParameters() ? VariantQueries.POSTGRES : VariantQueries.H2,
      this::isUniqueViolation);
  }

  /**
   * One transaction, behind {@link SqlQueries#migrationLock}: the schema is read and brought up to date
   * by one instance at a time, and a step that fails leaves no part of the upgrade behind (PostgreSQL's
   * DDL is transactional; H2 commits DDL at once, so its steps are written to be run again whole).
   */
  @Override
  public Future<Void> migrate() {
    return pool.withTransaction(conn -> conn.query(sql.migrationLock()).execute()
        .compose(v -> conn.query(SqlQueries.CREATE_SCHEMA_VERSION).execute())
        .compose(v -> conn.query(SqlQueries.CURRENT_SCHEMA_VERSION).execute())
        .compose(rows -> {
          int current = rows.iterator().next().getInteger(0);
          return applyFrom(conn, sql, current).map(current);
        }))
      .onSuccess(from -> {
        if (from < SqlQueries.MIGRATIONS.size()) {
          LOG.info("Database schema migrated from version {} to {}", from, SqlQueries.MIGRATIONS.size());
        }
      })
      .<Void>mapEmpty()
      .recover(this::translate);
  }

  private static Future<Void> applyFrom(SqlConnection conn, SqlQueries sql, int current) {
    Future<?> chain = Future.succeededFuture();
    for (int i = current; i < SqlQueries.MIGRATIONS.size(); i++) {
      int version = i + 1;
      for (String ddl : SqlQueries.MIGRATIONS.get(i)) {
        chain = chain.compose(x -> conn.query(ddl).execute());
      }
      chain = chain.compose(x -> conn.preparedQuery(sql.recordMigration()).execute(Tuple.of(version)));
    }
    return chain.mapEmpty();
  }

  @Override
  public Future<User> createUser(String name) {
    OffsetDateTime now = now();
    // An explicit transaction: under JDBC autocommit, H2 may commit an INSERT read through FINAL TABLE
    // only after the result is consumed, so the next request on another connection could miss the user.
    return pool.withTransaction(conn -> conn.preparedQuery(sql.insertUser()).execute(Tuple.of(name, now)))
      .map(rows -> new User(rows.iterator().next().getLong(0), name, now.toInstant()))
      .recover(this::translate);
  }

  /**
   * Deletes the user row; its avatar and variant rows go with it ({@code ON DELETE CASCADE}). Not part of
   * the API (users are never deleted there): the start's warm-up removes its reserved user with it.
   */
  public Future<Void> deleteUser(long id) {
    String sql = "DELETE FROM users WHERE id = " + (this.sql.numberedParameters() ? "$1" : "?");
    // In a transaction, as createUser: under JDBC autocommit H2 may commit it late.
    return pool.withTransaction(conn -> conn.preparedQuery(sql).execute(Tuple.of(id))).<Void>mapEmpty()
      .recover(this::translate);
  }

  /** Deletes the users named {@code name} created more than {@code secondsAgo} ago; succeeds with how many. */
  public Future<Integer> deleteUsersNamedBefore(String name, long secondsAgo) {
    String sql = this.sql.numberedParameters() ? "DELETE FROM users WHERE name = $1 AND created_at < $2"
      : "DELETE FROM users WHERE name = ? AND created_at < ?";
    return pool.withTransaction(conn -> conn.preparedQuery(sql).execute(Tuple.of(name, now().minusSeconds(secondsAgo))))
      .map(rows -> rows.rowCount()).recover(this::translate);
  }

  @Override
  public Future<User> findUser(long id) {
    return pool.preparedQuery(sql.findUser()).execute(Tuple.of(id))
      .map(rows -> first(rows, row -> new User(row.getLong(0), row.getString(1), instant(row.getValue(2)))))
      .recover(this::translate);
  }

  @Override
  public Future<Avatar> findAvatar(long userId) {
    return pool.preparedQuery(sql.findAvatar()).execute(Tuple.of(userId))
      .map(rows -> first(rows, SqlAvatarRepository::avatar))
      .recover(this::translate);
  }

  /**
   * Under the user's row lock, which {@link #deleteAvatar} takes too: the row read is the committed
   * one, the next version is one more than the user's last (kept in {@code users.avatar_version}, so it
   * never repeats across deletes), and the INSERT or UPDATE must write exactly one row, or nothing is
   * reported saved (the transaction rolls back and the caller deletes the new file).
   */
  @Override
  public Future<SavedAvatar> saveAvatar(long userId, NewAvatar avatar) {
    if (sql.writeAvatar() != null) {
      return saveAvatarPipelined(userId, avatar);
    }
    return pool.withTransaction(conn -> lockUser(conn, userId)
        .compose(lastVersion -> conn.preparedQuery(sql.findAvatar()).execute(Tuple.of(userId))
          .compose(rows -> {
            Avatar previous = first(rows, SqlAvatarRepository::avatar);
            // The row's version too: a row written by a server that did not keep the counter.
            long version = Math.max(lastVersion, previous == null ? 0 : previous.version()) + 1;
            Avatar current = new Avatar(userId, avatar.storageKey(), avatar.contentType(), avatar.size(),
              avatar.sha256(), avatar.width(), avatar.height(), version, now().toInstant());
            Future<RowSet<Row>> write = previous == null
              ? conn.preparedQuery(sql.insertAvatar()).execute(Tuple.tuple().addLong(userId).addValue(current.storageKey())
                  .addValue(current.contentType()).addLong(current.size()).addValue(current.sha256())
                  .addValue(current.width()).addValue(current.height()).addLong(current.version())
                  .addValue(current.updatedAt().atOffset(ZoneOffset.UTC)))
              : conn.preparedQuery(sql.updateAvatar()).execute(Tuple.tuple().addValue(current.storageKey())
                  .addValue(current.contentType()).addLong(current.size()).addValue(current.sha256())
                  .addValue(current.width()).addValue(current.height()).addLong(current.version())
                  .addValue(current.updatedAt().atOffset(ZoneOffset.UTC)).addLong(userId));
            return write
              .compose(written -> oneRow(written, "avatar row of user " + userId))
              .compose(v -> setAvatarVersion(conn, userId, version))
              .map(v -> new SavedAvatar(current, previous));
          })))
      .recover(this::translate);
  }

  /**
   * {@link #saveAvatar} in three round trips instead of six: BEGIN; then the lock and the write
   * ({@code writeAvatar}: reads the previous row, updates or inserts, bumps the counter) sent together
   * without waiting for the lock's answer (the reactive client pipelines them on the connection); then
   * COMMIT, or ROLLBACK when an answer is not what it must be. The database runs them in order, and the
   * write's snapshot is taken when it starts, with the user's lock held: the previous row it reads is
   * the committed one, as in the step-by-step path, and nothing that takes the lock (saves, deletes)
   * can change it before the write. The write must report exactly one avatar row written and the
   * counter row updated, or nothing is reported saved.
   */
  private Future<SavedAvatar> saveAvatarPipelined(long userId, NewAvatar avatar) {
    OffsetDateTime now = now();
    return pool.withTransaction(conn -> {
      Future<Long> locked = lockUser(conn, userId);
      Future<RowSet<Row>> written = conn.preparedQuery(sql.writeAvatar()).execute(Tuple.tuple().addLong(userId)
        .addValue(avatar.storageKey()).addValue(avatar.contentType()).addLong(avatar.size()).addValue(avatar.sha256())
        .addValue(avatar.width()).addValue(avatar.height()).addValue(now));
      // In the order they were sent, so a missing user is reported as such, not as the write's outcome.
      return locked.compose(lastVersion -> written).compose(rows -> {
        if (rows.size() != 1) {
          return Future.failedFuture(new IllegalStateException("updated " + rows.size()
            + " counter rows for user " + userId + ", expected 1"));
        }
        Row row = rows.iterator().next();
        if (row.getLong(1) != 1) {
          return Future.failedFuture(new IllegalStateException("wrote " + row.getLong(1)
            + " rows for the avatar row of user " + userId + ", expected 1"));
        }
        Avatar previous = row.getValue(2) == null ? null : avatar(row, 2);
        return Future.succeededFuture(new SavedAvatar(new Avatar(userId, avatar.storageKey(), avatar.contentType(),
          avatar.size(), avatar.sha256(), avatar.width(), avatar.height(), row.getLong(0), now.toInstant()), previous));
      });
    }).recover(this::translate);
  }

  /**
   * Locks the user's row until commit and succeeds with the last avatar version given to the user:
   * saves and deletes for one user queue here. Fails with USER_NOT_FOUND when there is no such user.
   */
  private Future<Long> lockUser(SqlConnection conn, long userId) {
    return conn.preparedQuery(sql.lockUser()).execute(Tuple.of(userId)).compose(rows -> rows.size() == 0
      ? Future.failedFuture(Failure.USER_NOT_FOUND.exception("No user has id " + userId))
      : Future.succeededFuture(rows.iterator().next().getLong(0)));
  }

  private Future<Void> setAvatarVersion(SqlConnection conn, long userId, long version) {
    return conn.preparedQuery(sql.setAvatarVersion()).execute(Tuple.of(version, userId))
      .compose(written -> oneRow(written, "avatar version of user " + userId));
  }

  /**
   * A write that changed no row (or several) is not reported as done: under the user's lock it cannot
   * happen, and if it does, failing rolls the transaction back instead of acknowledging a lost write.
   */
  private static Future<Void> oneRow(RowSet<Row> written, String what) {
    return written.rowCount() == 1
      ? Future.succeededFuture()
      : Future.failedFuture(new IllegalStateException("wrote " + written.rowCount() + " rows for the " + what
        + ", expected 1"));
  }

  /**
   * Under the user's row lock, like {@link #saveAvatar}: a save waiting on it then reads that the row
   * is gone and inserts a new one, instead of updating a deleted row. The user's last version stays
   * (raised to the deleted row's, should a server that did not keep it have written that row).
   */
  @Override
  public Future<Avatar> deleteAvatar(long userId) {
    return pool.withTransaction(conn -> lockUser(conn, userId)
        .compose(lastVersion -> conn.preparedQuery(sql.deleteAvatar()).execute(Tuple.of(userId))
          .compose(rows -> {
            Avatar deleted = first(rows, SqlAvatarRepository::avatar);
            return deleted == null || deleted.version() <= lastVersion
              ? Future.succeededFuture(deleted)
              : setAvatarVersion(conn, userId, deleted.version()).map(deleted);
          }))
        .recover(err -> err instanceof AvatarException e && e.failure() == Failure.USER_NOT_FOUND
          ? Future.succeededFuture(null) // no user, so no avatar
          : Future.failedFuture(err)))
      .recover(this::translate);
  }

  @Override
  public Future<Set<String>> referenced(List<String> keys) {
    if (keys.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    return pool.preparedQuery(sql.referencedAmong(keys.size())).execute(Tuple.wrap(sql.referencedParameters(keys)))
      .map(rows -> {
        Set<String> found = new HashSet<>();
        rows.forEach(row -> found.add(row.getString(0)));
        return found;
      })
      .recover(this::translate);
  }

  @Override
  public Future<List<String>> keysAfter(String after, int limit) {
    return pool.preparedQuery(sql.keysAfter()).execute(Tuple.of(after, limit))
      .map(rows -> {
        List<String> keys = new ArrayList<>();
        rows.forEach(row -> keys.add(row.getString(0)));
        return keys;
      })
      .recover(this::translate);
  }

  @Override
  public Future<Void> ping() {
    return pool.query(sql.ping()).execute().<Void>mapEmpty().recover(this::translate);
  }

  @Override
  public Future<Void> close() {
    return pool.close();
  }

  /** A failure in the domain's words: USER_NOT_FOUND for a foreign-key violation, else DATABASE_UNAVAILABLE. */
  <T> Future<T> translate(Throwable failure) {
    if (failure instanceof AvatarException) {
      return Future.failedFuture(failure);
    }
    if (isForeignKeyViolation(failure)) {
      return Future.failedFuture(Failure.USER_NOT_FOUND.exception("The user no longer exists"));
    }
    LOG.warn("Database operation failed: {}", failure.toString());
    return Future.failedFuture(Failure.DATABASE_UNAVAILABLE.exception("The database is unavailable; try again later"));
  }

  private static Avatar avatar(Row row) {
    return avatar(row, 0);
  }

  /** The avatar columns ({@code AVATAR_COLUMNS}' order) of {@code row} from position {@code at}. */
  private static Avatar avatar(Row row, int at) {
    return new Avatar(row.getLong(at), row.getString(at + 1), row.getString(at + 2), row.getLong(at + 3),
      row.getString(at + 4), row.getInteger(at + 5), row.getInteger(at + 6), row.getLong(at + 7),
      instant(row.getValue(at + 8)));
  }

  private static <T> T first(RowSet<Row> rows, Function<Row, T> mapper) {
    return rows.size() == 0 ? null : mapper.apply(rows.iterator().next());
  }

  /** Timestamps are stored in UTC with millisecond precision, so what is read equals what was written. */
  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS);
  }

  /** PostgreSQL gives OffsetDateTime; JDBC drivers may give any of the java.time or java.sql types. */
  private static Instant instant(Object value) {
    if (value instanceof OffsetDateTime odt) {
      return odt.toInstant();
    }
    if (value instanceof Instant i) {
      return i;
    }
    if (value instanceof java.time.ZonedDateTime zdt) {
      return zdt.toInstant();
    }
    if (value instanceof LocalDateTime ldt) {
      return ldt.toInstant(ZoneOffset.UTC);
    }
    if (value instanceof java.sql.Timestamp ts) {
      return ts.toInstant();
    }
    throw new IllegalStateException("unexpected timestamp type " + (value == null ? "null" : value.getClass()));
  }
}
