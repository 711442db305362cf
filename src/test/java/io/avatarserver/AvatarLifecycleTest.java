package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Users and the avatar lifecycle: create, replace, delete")
class AvatarLifecycleTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  @Test
  @DisplayName("POST /users creates a user: 201, its id, and a Location")
  void createUser() {
    HttpResponse<byte[]> response = server.send(server.asAdmin("/users")
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"  Ada Lovelace \"}")));

    assertEquals(201, response.statusCode());
    JsonObject user = TestServer.json(response);
    assertTrue(user.getLong("id") > 0);
    assertEquals("Ada Lovelace", user.getString("name"));
    assertEquals("/users/" + user.getLong("id"), response.headers().firstValue("Location").orElse(""));
  }

  @ParameterizedTest(name = "body «{0}»")
  @ValueSource(strings = {"", "not json", "[]", "{}", "{\"name\":\"\"}", "{\"name\":\"   \"}", "{\"name\":42}",
    "{\"name\":null}"})
  @DisplayName("POST /users with anything but a non-blank name is refused with 400")
  void createUserRefused(String body) {
    HttpResponse<byte[]> response = server.send(server.asAdmin("/users")
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body)));

    assertRefused(response, 400, "invalid-user");
  }

  @Test
  @DisplayName("POST /users with a name longer than 200 characters is refused with 400")
  void createUserNameTooLong() {
    HttpResponse<byte[]> response = server.send(server.asAdmin("/users")
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("name", "x".repeat(201)).encode())));

    assertRefused(response, 400, "invalid-user");
  }

  @Test
  @DisplayName("A first avatar answers 201, a replacement 200; the old file is deleted and the new bytes served")
  void replace() throws Exception {
    long user = server.createUser("replace");
    byte[] first = Bodies.fixture("images/avatar-256.jpg");
    byte[] second = Bodies.fixture("images/avatar-200.png");

    HttpResponse<byte[]> created = server.put(user, "image/jpeg", first);
    assertEquals(201, created.statusCode());
    assertEquals(1, TestServer.json(created).getLong("version"));
    List<Path> before = server.avatarFiles(user);
    assertEquals(1, before.size());

    HttpResponse<byte[]> replaced = server.put(user, "image/png", second);
    assertEquals(200, replaced.statusCode());
    JsonObject info = TestServer.json(replaced);
    assertEquals(2, info.getLong("version"));
    assertEquals("image/png", info.getString("contentType"));

    List<Path> after = server.avatarFiles(user);
    assertEquals(1, after.size());
    assertNotEquals(before.get(0), after.get(0), "a replacement is a new file, never an overwrite");
    assertFalse(Files.exists(before.get(0)), "the replaced file is deleted");
    // Stored as sent, less the fixture's tEXt chunks.
    assertArrayEquals(Images.stored(second), Files.readAllBytes(after.get(0)));
    HttpResponse<byte[]> get = server.get("/users/" + user + "/avatar");
    assertArrayEquals(Images.stored(second), get.body());
    assertEquals("image/png", get.headers().firstValue("Content-Type").orElse(""));
  }

  @Test
  @DisplayName("GET /users/{id}/avatar/info describes the stored avatar")
  void info() {
    long user = server.createUser("info");
    byte[] body = Bodies.fixture("images/avatar-200.webp");
    server.put(user, "image/webp", body);

    HttpResponse<byte[]> response = server.get("/users/" + user + "/avatar/info");

    assertEquals(200, response.statusCode());
    JsonObject info = TestServer.json(response);
    assertEquals(user, info.getLong("userId"));
    assertEquals("image/webp", info.getString("contentType"));
    assertEquals(body.length, info.getLong("size"));
    assertEquals(Bodies.sha256(body), info.getString("sha256"));
    assertEquals(200, info.getInteger("width"));
    assertEquals(200, info.getInteger("height"));
    assertEquals(1, info.getLong("version"));
    assertTrue(java.time.Instant.parse(info.getString("updatedAt")).isAfter(java.time.Instant.now().minusSeconds(600)));
    assertEquals("/users/" + user + "/avatar?v=1", info.getString("url"));
  }

  @Test
  @DisplayName("DELETE answers 204 and removes row and file; then GET, info and a second DELETE answer 404")
  void delete() {
    long user = server.createUser("delete");
    server.put(user, "image/gif", Bodies.fixture("images/avatar-64.gif"));
    assertEquals(1, server.avatarFiles(user).size());

    HttpResponse<byte[]> deleted = server.send(server.as(user, "/users/" + user + "/avatar").DELETE());

    assertEquals(204, deleted.statusCode());
    assertEquals(List.of(), server.avatarFiles(user));
    assertRefused(server.get("/users/" + user + "/avatar"), 404, "avatar-not-found");
    assertRefused(server.get("/users/" + user + "/avatar/info"), 404, "avatar-not-found");
    HttpResponse<byte[]> again = server.send(server.as(user, "/users/" + user + "/avatar").DELETE());
    assertRefused(again, 404, "avatar-not-found");
  }

  @Test
  @DisplayName("An upload for an unknown user is refused with 404 and nothing is stored")
  void unknownUser() {
    HttpResponse<byte[]> put = server.put(987_654_321L, "image/jpeg", Bodies.fixture("images/avatar-256.jpg"));

    assertRefused(put, 404, "user-not-found");
    assertEquals(List.of(), server.avatarFiles(987_654_321L));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"abc", "0", "-1", "01", "1.5", "99999999999999999999", "9223372036854775808"})
  @DisplayName("Ids that are not positive 64-bit integers are refused with 400 on every route")
  void invalidIds(String id) {
    String path = "/users/" + id + "/avatar";
    for (HttpResponse<byte[]> response : List.of(
      server.get(path),
      server.get(path + "/info"),
      server.send(server.asAdmin(path).DELETE()),
      server.send(server.asAdmin(path).header("Content-Type", "image/jpeg")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture("images/avatar-256.jpg")))))) {
      assertRefused(response, 400, "invalid-id");
    }
  }

  @Test
  @DisplayName("Unknown paths answer 404 and unknown methods 405, both as problem+json")
  void unknownRoutes() {
    HttpResponse<byte[]> notFound = server.get("/nowhere");
    assertRefused(notFound, 404, "not-found");

    HttpResponse<byte[]> notAllowed = server.send(server.request("/users/1/avatar")
      .method("PATCH", HttpRequest.BodyPublishers.noBody()));
    assertRefused(notAllowed, 405, "method-not-allowed");
  }

  @Test
  @DisplayName("GET /health answers 200 with the database and the storage up")
  void health() {
    HttpResponse<byte[]> response = server.get("/health");

    assertEquals(200, response.statusCode());
    JsonObject body = TestServer.json(response);
    assertEquals("UP", body.getString("status"));
    assertEquals("UP", body.getJsonObject("checks").getString("database"));
    assertEquals("UP", body.getJsonObject("checks").getString("storage"));
  }
}
