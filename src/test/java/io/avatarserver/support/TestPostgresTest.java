package io.avatarserver.support;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("The PostgreSQL tests run on AVATAR_TEST_PG_URL, else the local server if it answers, else an embedded one")
class TestPostgresTest {

  @Test
  @DisplayName("AVATAR_TEST_PG_URL wins, without looking for a local server or starting one")
  void urlFromEnvironment() {
    AtomicInteger started = new AtomicInteger();
    List<String> announced = new ArrayList<>();
    String url = TestPostgres.choose(
      Map.of(TestPostgres.URL_ENV, "postgresql://u@db.example:6543/x", TestPostgres.LOCAL_ENV, "127.0.0.1:" + closedPort()),
      () -> "embedded " + started.incrementAndGet(), announced::add);
    assertEquals("postgresql://u@db.example:6543/x", url);
    assertEquals(0, started.get());
    assertEquals(List.of("the one at AVATAR_TEST_PG_URL"), announced);
  }

  @Test
  @DisplayName("A local server that answers the PostgreSQL protocol is used, database test, user postgres")
  void localServerAnswers() throws Exception {
    try (FakePostgres local = new FakePostgres('N')) {
      AtomicInteger started = new AtomicInteger();
      List<String> announced = new ArrayList<>();
      String url = TestPostgres.choose(Map.of(TestPostgres.LOCAL_ENV, "127.0.0.1:" + local.port()),
        () -> "embedded " + started.incrementAndGet(), announced::add);
      assertEquals("postgresql://postgres@127.0.0.1:" + local.port() + "/test", url);
      assertEquals(0, started.get());
      assertEquals(List.of("local " + url), announced);
    }
  }

  @Test
  @DisplayName("Nothing listening, or a listener that is not PostgreSQL: the embedded server is started")
  void noLocalServer() throws Exception {
    List<String> announced = new ArrayList<>();
    assertEquals("embedded", TestPostgres.choose(Map.of(TestPostgres.LOCAL_ENV, "127.0.0.1:" + closedPort()), () -> "embedded",
      announced::add));
    try (FakePostgres notPostgres = new FakePostgres('H')) {
      assertEquals("embedded", TestPostgres.choose(Map.of(TestPostgres.LOCAL_ENV, "127.0.0.1:" + notPostgres.port()),
        () -> "embedded", announced::add));
    }
    assertEquals(List.of(), announced);
  }

  @Test
  @DisplayName("When the embedded server cannot start: one line that says why and names AVATAR_TEST_PG_URL")
  void embeddedFails() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestPostgres.choose(
      Map.of(TestPostgres.LOCAL_ENV, "127.0.0.1:" + closedPort()),
      () -> {
        throw new IllegalStateException(new IOException("initdb\nfailed"));
      }, line -> { }));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().contains("none answers on 127.0.0.1:"), e.getMessage());
    assertTrue(e.getMessage().contains("(initdb failed)") || e.getMessage().contains("running as root"), e.getMessage());
    assertTrue(e.getMessage().contains(TestPostgres.URL_ENV + "=postgresql://"), e.getMessage());
  }

  @Test
  @DisplayName("The embedded server starts (as root too), answers a postgresql:// URL on 127.0.0.1 and is gone once closed")
  void embeddedServer() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      int port;
      try (TestPostgres.Embedded embedded = TestPostgres.Embedded.start()) {
        port = embedded.port();
        assertTrue(embedded.url().startsWith("postgresql://postgres@127.0.0.1:" + port + "/"), embedded.url());
        assertTrue(TestPostgres.answers(new InetSocketAddress("127.0.0.1", port)));
        PgConnection conn = PgConnection.connect(vertx, PgConnectOptions.fromUri(embedded.url())).await();
        try {
          Row row = conn.query("SELECT current_database(), current_setting('server_version_num')::int").execute().await().iterator().next();
          assertEquals("postgres", row.getString(0));
          assertTrue(row.getInteger(1) >= 140000, () -> "server_version_num " + row.getInteger(1));
        } finally {
          conn.close().await();
        }
      }
      assertFalse(TestPostgres.answers(new InetSocketAddress("127.0.0.1", port)));
    } finally {
      vertx.close().await();
    }
  }

  private static int closedPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Answers one SSLRequest with {@code reply}: 'N' is what PostgreSQL without TLS says. */
  private static final class FakePostgres implements AutoCloseable {
    private final ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    private final Thread thread;

    FakePostgres(char reply) throws IOException {
      thread = new Thread(() -> {
        try (Socket client = socket.accept()) {
          InputStream in = client.getInputStream();
          in.readNBytes(8);
          client.getOutputStream().write(reply);
          client.getOutputStream().flush();
        } catch (IOException closed) {
          // Closed by the test.
        }
      }, "fake-postgres");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws Exception {
      socket.close();
      thread.join(5_000);
    }
  }
}
