package io.avatarserver.db;

import io.vertx.core.Vertx;
import io.vertx.jdbcclient.JDBCConnectOptions;
import io.vertx.jdbcclient.JDBCPool;
import io.vertx.sqlclient.PoolOptions;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

/**
 * Metadata in an embedded H2 database through {@code vertx-jdbc-client}, which runs every JDBC call
 * on a worker thread: nothing here blocks an event loop.
 */
public final class JdbcAvatarRepository extends SqlAvatarRepository {

  private JdbcAvatarRepository(io.vertx.sqlclient.Pool pool) {
    super(pool, SqlQueries.H2);
  }

  /** The embedded database's URL for a data directory. */
  public static String embeddedUrl(Path dataDir) {
    // LOCK_TIMEOUT: concurrent saves for one user wait on its row lock; H2's default (1 s) is too short
    // under load. The file lock (H2's default) keeps a second server off the same data directory.
    return "jdbc:h2:file:" + dataDir.resolve("avatar-db").toAbsolutePath() + ";LOCK_TIMEOUT=10000;WRITE_DELAY=0";
  }

  public static JdbcAvatarRepository create(Vertx vertx, String jdbcUrl, int poolSize) {
    PoolOptions pool = new PoolOptions()
      .setMaxSize(poolSize)
      .setName("avatar-db")
      .setConnectionTimeout(10)
      .setConnectionTimeoutUnit(TimeUnit.SECONDS);
    return new JdbcAvatarRepository(JDBCPool.pool(vertx, new JDBCConnectOptions().setJdbcUrl(jdbcUrl), pool));
  }

  @Override
  protected boolean isUniqueViolation(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  @Override
  protected boolean isForeignKeyViolation(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      // 23503 is the standard SQLSTATE; H2 reports a missing parent row as 23506.
      if (t instanceof SQLException sql && ("23503".equals(sql.getSQLState()) || "23506".equals(sql.getSQLState()))) {
        return true;
      }
    }
    return false;
  }
}
