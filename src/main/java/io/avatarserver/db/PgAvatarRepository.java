package io.avatarserver.db;

import io.avatarserver.avatar.AvatarRepository.SweepLease;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.PoolOptions;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** Metadata in PostgreSQL through the reactive, non-blocking {@code vertx-pg-client}. */
public final class PgAvatarRepository extends SqlAvatarRepository {

  /** SQLSTATE foreign_key_violation (PostgreSQL appendix A). */
  private static final String FOREIGN_KEY_VIOLATION = "23503";

  private final Vertx vertx;
  private final PgConnectOptions connect;

  private PgAvatarRepository(Vertx vertx, PgConnectOptions connect, io.vertx.sqlclient.Pool pool) {
    super(pool, SqlQueries.POSTGRES);
    this.vertx = vertx;
    this.connect = connect;
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
    return new PgAvatarRepository(vertx, connect, PgBuilder.pool().with(pool).with(transport).connectingTo(connect).using(vertx).build());
  }

  /**
   * {@code pg_try_advisory_lock} on a connection of its own, not the pool's: the lock lives as long as
   * that session, so closing the connection releases it for sure (a pooled connection would carry it
   * back into the pool), and an instance that dies, or whose connection is cut, loses it at once.
   */
  @Override
  public Future<SweepLease> trySweepLease() {
    return PgConnection.connect(vertx, connect).compose(conn -> {
      AtomicBoolean held = new AtomicBoolean();
      conn.closeHandler(v -> held.set(false));
      return conn.query(SqlQueries.PG_TRY_SWEEP_LOCK).execute().transform(ar -> {
        if (ar.succeeded() && Boolean.TRUE.equals(ar.result().iterator().next().getBoolean(0))) {
          held.set(true);
          return Future.<SweepLease>succeededFuture(new SessionLease(conn, held));
        }
        // Another instance sweeps (or the query failed): this session is not needed.
        return conn.close().transform(closed -> ar.succeeded()
          ? Future.<SweepLease>succeededFuture(null) : Future.<SweepLease>failedFuture(ar.cause()));
      });
    }).recover(this::translate);
  }

  /** The advisory lock of one session: released by closing the session. */
  private record SessionLease(PgConnection connection, AtomicBoolean state) implements SweepLease {

    @Override
    public boolean held() {
      return state.get();
    }

    @Override
    public Future<Void> release() {
      state.set(false);
      return connection.close();
    }
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
