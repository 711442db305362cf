package io.avatarserver.db;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.PoolOptions;

import java.util.concurrent.TimeUnit;

/** Metadata in PostgreSQL through the reactive, non-blocking {@code vertx-pg-client}. */
public final class PgAvatarRepository extends SqlAvatarRepository {

  /** SQLSTATE foreign_key_violation (PostgreSQL appendix A). */
  private static final String FOREIGN_KEY_VIOLATION = "23503";

  private PgAvatarRepository(io.vertx.sqlclient.Pool pool) {
    super(pool, SqlQueries.POSTGRES);
  }

  /** {@code url}: {@code postgresql://user:password@host:port/database?search_path=…}. */
  public static PgAvatarRepository create(Vertx vertx, String url, int poolSize) {
    PgConnectOptions connect = PgConnectOptions.fromUri(url).setCachePreparedStatements(true);
    // Fail fast when the database is unreachable instead of holding uploads for a minute (default 60 s).
    NetClientOptions transport = new NetClientOptions().setConnectTimeout(5_000);
    PoolOptions pool = new PoolOptions()
      .setMaxSize(poolSize)
      .setName("avatar-db")
      .setConnectionTimeout(10)
      .setConnectionTimeoutUnit(TimeUnit.SECONDS);
    return new PgAvatarRepository(PgBuilder.pool().with(pool).with(transport).connectingTo(connect).using(vertx).build());
  }

  @Override
  protected boolean isUniqueViolation(Throwable failure) {
    return failure instanceof PgException pg && "23505".equals(pg.getSqlState());
  }

  @Override
  protected boolean isForeignKeyViolation(Throwable failure) {
    return failure instanceof PgException pg && FOREIGN_KEY_VIOLATION.equals(pg.getSqlState());
  }
}
