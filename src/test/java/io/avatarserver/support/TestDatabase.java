package io.avatarserver.support;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * The database a test server runs on, chosen per Surefire execution by the system property
 * {@code avatar.test.db}: {@code postgres} (a fresh schema in a real PostgreSQL server, dropped at
 * the end: the local one, {@code AVATAR_TEST_PG_URL}'s or an embedded one, see {@link TestPostgres})
 * or {@code h2} (the embedded default, in the test's own data directory). There is no skipping: when
 * PostgreSQL is the backend and none can be had, the tests fail.
 */
public abstract class TestDatabase implements AutoCloseable {

  @Override
  public abstract void close();

  public static final String PROPERTY = "avatar.test.db";
  /** The {@code database.url} the server under test is given. */
  public abstract String serverUrl();

  /** Runs statements outside the server, for fault injection and inspection. */
  public abstract void execute(String... statements);

  /** The first column of the first row of {@code query}, a number (a COUNT). */
  public abstract long queryLong(String query);

  public abstract String name();

  /** A TCP endpoint that serves this database (for H2, a TCP server is started for it). */
  public abstract java.net.InetSocketAddress endpoint();

  /** The {@code database.url} that reaches this database at {@code port} on the loopback: a proxy's. */
  public abstract String serverUrlAt(int port);

  public static TestDatabase create(Vertx vertx, Path dataDir) {
    String kind = System.getProperty(PROPERTY, "postgres").toLowerCase(Locale.ROOT);
    return switch (kind) {
      case "postgres" -> new Postgres(vertx);
      case "h2" -> new H2(dataDir);
      default -> throw new IllegalArgumentException(PROPERTY + " must be postgres or h2, was " + kind);
    };
  }

  public boolean isPostgres() {
    return this instanceof Postgres;
  }

  static final class Postgres extends TestDatabase {
    private final Vertx vertx;
    private final String baseUrl;
    private final String schema = "avatar_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

    Postgres(Vertx vertx) {
      this.vertx = vertx;
      this.baseUrl = TestPostgres.baseUrl();
      run("CREATE SCHEMA " + schema);
    }

    @Override
    public String serverUrl() {
      return baseUrl + (baseUrl.contains("?") ? "&" : "?") + "search_path=" + schema;
    }

    @Override
    public void execute(String... statements) {
      PgConnection conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(serverUrl())).await();
      try {
        for (String sql : statements) {
          conn.query(sql).execute().await();
        }
      } finally {
        conn.close().await();
      }
    }

    @Override
    public long queryLong(String query) {
      PgConnection conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(serverUrl())).await();
      try {
        return conn.query(query).execute().await().iterator().next().getLong(0);
      } finally {
        conn.close().await();
      }
    }

    private void run(String sql) {
      PgConnection conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(baseUrl)).await();
      try {
        conn.query(sql).execute().await();
      } finally {
        conn.close().await();
      }
    }

    @Override
    public String name() {
      return "PostgreSQL schema " + schema;
    }

    @Override
    public java.net.InetSocketAddress endpoint() {
      java.net.URI uri = java.net.URI.create(baseUrl);
      return new java.net.InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort());
    }

    @Override
    public String serverUrlAt(int port) {
      java.net.InetSocketAddress at = endpoint();
      return serverUrl().replace(at.getHostString() + ":" + at.getPort(), "127.0.0.1:" + port);
    }

    @Override
    public void close() {
      run("DROP SCHEMA " + schema + " CASCADE");
    }
  }

  static final class H2 extends TestDatabase {
    private final String url;
    private final Path dataDir;
    private org.h2.tools.Server tcp;

    H2(Path dataDir) {
      this.dataDir = dataDir;
      this.url = io.avatarserver.db.JdbcAvatarRepository.embeddedUrl(dataDir);
    }

    @Override
    public synchronized java.net.InetSocketAddress endpoint() {
      if (tcp == null) {
        try {
          tcp = org.h2.tools.Server.createTcpServer("-tcpPort", "0", "-ifNotExists", "-baseDir", dataDir.toString()).start();
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      }
      return new java.net.InetSocketAddress("127.0.0.1", tcp.getPort());
    }

    @Override
    public String serverUrlAt(int port) {
      return "jdbc:h2:tcp://127.0.0.1:" + port + "/networked-db;LOCK_TIMEOUT=10000";
    }

    @Override
    public String serverUrl() {
      return url;
    }

    @Override
    public void execute(String... statements) {
      // Same JVM: H2 shares the server's open database with this connection. Test thread, not an event loop.
      try (Connection conn = DriverManager.getConnection(url); Statement st = conn.createStatement()) {
        for (String sql : statements) {
          st.execute(sql);
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public long queryLong(String query) {
      try (Connection conn = DriverManager.getConnection(url); Statement st = conn.createStatement();
           java.sql.ResultSet rows = st.executeQuery(query)) {
        rows.next();
        return rows.getLong(1);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public String name() {
      return "embedded H2";
    }

    @Override
    public synchronized void close() {
      if (tcp != null) {
        tcp.stop();
      }
    }
  }
}
