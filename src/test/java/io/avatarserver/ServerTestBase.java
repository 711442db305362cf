package io.avatarserver;

import io.avatarserver.support.TestDatabase;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real server for the test class (the production wiring on port 0, real files, the Surefire
 * execution's database) and the invariant every test must leave behind: no upload in progress, so
 * no temporary file.
 */
@ExtendWith(VertxExtension.class)
abstract class ServerTestBase {

  protected static TestServer server;

  static void startServer(Vertx vertx) {
    startServer(vertx, new JsonObject());
  }

  static void startServer(Vertx vertx, JsonObject overrides) {
    server = TestServer.start(vertx, overrides);
  }

  static void startServer(Vertx vertx, JsonObject overrides, java.util.function.Function<TestDatabase, String> databaseUrl) {
    server = TestServer.start(vertx, overrides, databaseUrl);
  }

  @AfterEach
  void temporaryAreaIsEmpty() {
    assertEquals(java.util.List.of(), server.awaitNoStagedFiles(), "temporary files left behind");
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
      server = null;
    }
  }
}
