package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestS3;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up before the listener opens ({@link ListenerWarmup}): real uploads over loopback, all of
 * them answered 2xx, finished before any API listener began to open, and nothing of them left behind:
 * no user, avatar or variant row, no stored file or object, no staging file. On PostgreSQL and on H2, and
 * on the object store backend.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("The start's warm-up uploads run before the listener opens and leave nothing behind")
class ListenerWarmupTest {

  private static final int REQUESTS = 40;

  @Test
  @DisplayName("40 warm-up uploads: all 2xx, before the listener, no row and no file left")
  void warmupRunsFirstAndLeavesNothing(Vertx vertx) throws IOException {
    try (TestServer server = TestServer.start(vertx, new JsonObject()
      .put("http", new JsonObject().put("warmupRequests", REQUESTS)))) {
      ListenerWarmup.Report report = server.server().warmup();
      assertEquals(REQUESTS, report.sent(), "uploads sent");
      assertEquals(REQUESTS, report.succeeded(), "uploads answered 2xx (the rest failed: see the server log)");
      for (long opening : server.server().openingSinceNanos()) {
        assertTrue(opening - report.endedNanos() > 0, "an API listener began to open before the warm-up ended");
      }
      for (String table : List.of("users", "avatars", "variants")) {
        assertEquals(0, server.database().queryLong("SELECT COUNT(*) FROM " + table), "rows left in " + table);
      }
      if (server.server().config().storage().isS3()) {
        assertEquals(List.of(), TestS3.shared().keys(server.server().config().storage().s3().bucket()), "objects left");
      } else {
        assertEquals(List.of(), files(server.avatarsDir()), "stored files left");
      }
      assertEquals(List.of(), files(server.server().config().storage().tmpDir()), "staging files left");

      // The server works as before; its first user is the only one.
      long user = server.createUser("first");
      assertEquals(201, server.put(user, "image/png", Bodies.png(4096, 7)).statusCode());
      assertEquals(1, server.database().queryLong("SELECT COUNT(*) FROM users"));
    }
  }

  @Test
  @DisplayName("A warm-up user a killed start left is deleted by a later start once ten minutes old; a fresh one is not")
  void leftoverReservedUsersAreDeleted(Vertx vertx) {
    try (TestServer first = TestServer.start(vertx, new JsonObject(),
      database -> database.isPostgres() ? database.serverUrl() : database.serverUrlAt(database.endpoint().getPort()))) {
      String name = ListenerWarmup.RESERVED_NAME.replace("\u0001", "' || CHR(1) || '");
      sql(first, "INSERT INTO users (name, created_at) VALUES ('" + name + "', CURRENT_TIMESTAMP - INTERVAL '11' MINUTE)");
      sql(first, "INSERT INTO users (name, created_at) VALUES ('" + name + "', CURRENT_TIMESTAMP - INTERVAL '9' MINUTE)");
      long fresh = count(first, "SELECT MAX(id) FROM users");
      try (TestServer second = first.sibling(vertx, new JsonObject().put("http", new JsonObject().put("warmupRequests", 8)))) {
        assertEquals(8, second.server().warmup().succeeded());
        assertEquals(1, count(first, "SELECT COUNT(*) FROM users"), "users left");
        assertEquals(fresh, count(first, "SELECT MIN(id) FROM users"), "the fresh warm-up user is kept");
      }
    }
  }

  /** On H2, through the TCP server both instances use (TestDatabase's own connection reaches another file). */
  private static void sql(TestServer server, String statement) {
    String url = server.server().config().database().url();
    if (!url.startsWith("jdbc:")) {
      server.database().execute(statement);
      return;
    }
    try (java.sql.Connection conn = java.sql.DriverManager.getConnection(url)) {
      conn.createStatement().execute(statement);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long count(TestServer server, String query) {
    String url = server.server().config().database().url();
    if (!url.startsWith("jdbc:")) {
      return server.database().queryLong(query);
    }
    try (java.sql.Connection conn = java.sql.DriverManager.getConnection(url);
         java.sql.ResultSet rows = conn.createStatement().executeQuery(query)) {
      rows.next();
      return rows.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<Path> files(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).toList();
    }
  }
}
