package io.avatarserver.db;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import io.avatarserver.variant.StoredVariant;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantKey;
import io.avatarserver.variant.VariantRepository;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The {@code variants} table on the avatar repository's pool, in either dialect. */
final class SqlVariantRepository implements VariantRepository {

  private static final Logger LOG = LoggerFactory.getLogger(SqlVariantRepository.class);

  private final Pool pool;
  private final VariantQueries sql;
  private final Predicate<Throwable> uniqueViolation;

  SqlVariantRepository(Pool pool, VariantQueries sql, Predicate<Throwable> uniqueViolation) {
    this.pool = pool;
    this.sql = sql;
    this.uniqueViolation = uniqueViolation;
  }

  @Override
  public Future<StoredVariant> find(VariantKey key) {
    return pool.preparedQuery(sql.find())
      .execute(Tuple.of(key.userId(), key.version(), key.size(), key.format().extension(), key.firstFrameOnly()))
      .map(rows -> rows.size() == 0 ? null : variant(rows.iterator().next()))
      .recover(this::translate);
  }

  @Override
  public Future<List<StoredVariant>> list(long userId, long version) {
    return pool.preparedQuery(sql.list()).execute(Tuple.of(userId, version))
      .map(rows -> {
        List<StoredVariant> all = new ArrayList<>();
        rows.forEach(row -> {
          StoredVariant v = variant(row);
          if (v != null) {
            all.add(v);
          }
        });
        return all;
      })
      .recover(this::translate);
  }

  @Override
  public Future<Boolean> insert(StoredVariant v) {
    VariantKey k = v.key();
    Tuple row = Tuple.tuple().addLong(k.userId()).addLong(k.version()).addInteger(k.size())
      .addString(k.format().extension()).addBoolean(k.firstFrameOnly()).addString(v.storageKey()).addLong(v.size())
      .addString(v.sha256()).addValue(OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS));
    // A transaction: H2 under autocommit may commit late (see SqlAvatarRepository.createUser).
    return pool.withTransaction(conn -> conn.preparedQuery(sql.insert()).execute(row))
      .map(true)
      .recover(err -> uniqueViolation.test(err) ? Future.succeededFuture(false) : translate(err));
  }

  @Override
  public Future<List<String>> deleteBelow(long userId, long version) {
    return pool.withTransaction(conn -> conn.preparedQuery(sql.deleteBelow()).execute(Tuple.of(userId, version)))
      .map(rows -> {
        List<String> keys = new ArrayList<>();
        rows.forEach(row -> keys.add(row.getString(0)));
        return keys;
      })
      .recover(this::translate);
  }

  @Override
  public Future<Void> delete(StoredVariant variant) {
    return pool.withTransaction(conn -> conn.preparedQuery(sql.deleteKey()).execute(Tuple.of(variant.storageKey())))
      .<Void>mapEmpty()
      .recover(this::translate);
  }

  /** Null for a row in a format this server no longer knows (never written by it). */
  private static StoredVariant variant(Row row) {
    return VariantFormat.named(row.getString(3))
      .map(format -> new StoredVariant(new VariantKey(row.getLong(0), row.getLong(1), row.getInteger(2), format,
        row.getBoolean(4)), row.getString(5), row.getLong(6), row.getString(7)))
      .orElse(null);
  }

  private <T> Future<T> translate(Throwable failure) {
    if (failure instanceof AvatarException) {
      return Future.failedFuture(failure);
    }
    LOG.warn("Database operation on variants failed: {}", failure.toString());
    return Future.failedFuture(Failure.DATABASE_UNAVAILABLE.exception("The database is unavailable; try again later"));
  }
}
