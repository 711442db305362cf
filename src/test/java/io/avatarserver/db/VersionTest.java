package io.avatarserver.db;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A user's avatar versions never repeat, across deletes and across the migration that started
 * counting them: a {@code ?v=N} URL is served as immutable, so a version given to two images would
 * keep the first one in caches for a year.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Versions: never repeated, across deletes and the schema upgrade")
class VersionTest {

  @Test
  @DisplayName("upload, DELETE, upload: the second image is version 2, and ?v=1 is no longer served as immutable")
  void versionAfterDelete(Vertx vertx) {
    try (TestServer server = TestServer.start(vertx)) {
      long user = server.createUser("deleted-once");
      byte[] first = Bodies.png(2048, 1);
      byte[] second = Bodies.png(2048, 2);

      assertEquals(1, TestServer.json(server.put(user, "image/png", first)).getLong("version"));
      assertEquals(204, server.send(server.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
      HttpResponse<byte[]> again = server.put(user, "image/png", second);
      assertEquals(201, again.statusCode());
      assertEquals(2, TestServer.json(again).getLong("version"));
      assertEquals(2, TestServer.json(server.get("/users/" + user + "/avatar/info")).getLong("version"));

      HttpResponse<byte[]> old = server.get("/users/" + user + "/avatar?v=1");
      assertArrayEquals(second, old.body());
      assertEquals("public, no-cache", old.headers().firstValue("Cache-Control").orElse(""),
        "the first image's URL now names other bytes: it must not be cached as immutable");
      HttpResponse<byte[]> current = server.get("/users/" + user + "/avatar?v=2");
      assertArrayEquals(second, current.body());
      assertEquals("public, max-age=31536000, immutable", current.headers().firstValue("Cache-Control").orElse(""));
    }
  }

  @Test
  @DisplayName("many uploads and deletes in turn: versions 1, 2, 3, … each acknowledged once")
  void versionsCountAcrossDeletes(Vertx vertx) {
    try (TestServer server = TestServer.start(vertx)) {
      long user = server.createUser("counting");
      List<Long> versions = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        versions.add(TestServer.json(server.put(user, "image/png", Bodies.png(2048, 10 + i))).getLong("version"));
        if (i % 2 == 1) {
          assertEquals(204, server.send(server.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
        }
      }
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), versions);
    }
  }

  @Test
  @DisplayName("an avatar from before the upgrade (schema 1, version 7): after DELETE, the next upload is version 8, not 1")
  void versionsContinueAfterTheUpgrade(Vertx vertx) {
    List<String> schemaOne = new ArrayList<>(SqlQueries.MIGRATIONS.get(0));
    schemaOne.add(0, SqlQueries.CREATE_SCHEMA_VERSION);
    schemaOne.add("INSERT INTO schema_version (version, applied_at) VALUES (1, CURRENT_TIMESTAMP)");
    schemaOne.add("INSERT INTO users (name, created_at) VALUES ('from-release-1', CURRENT_TIMESTAMP)");
    schemaOne.add("INSERT INTO avatars (user_id, storage_key, content_type, size_bytes, sha256, width, height, version,"
      + " updated_at) VALUES (1, '01/1-released.png', 'image/png', 2048, '" + "0".repeat(64) + "', 2, 2, 7, CURRENT_TIMESTAMP)");
    try (TestServer server = TestServer.start(vertx, new JsonObject(), database -> {
      database.execute(schemaOne.toArray(String[]::new));
      return database.serverUrl();
    })) {
      long user = 1;
      assertEquals(7, TestServer.json(server.get("/users/" + user + "/avatar/info")).getLong("version"));
      assertEquals(204, server.send(server.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
      HttpResponse<byte[]> uploaded = server.put(user, "image/png", Bodies.png(2048, 3));
      assertEquals(201, uploaded.statusCode());
      assertEquals(8, TestServer.json(uploaded).getLong("version"));
    }
  }
}
