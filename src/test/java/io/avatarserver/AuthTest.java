package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Jwts;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Only the owner writes: bearer JWTs, 401 and 403 before the body is read")
class AuthTest extends ServerTestBase {

  private static final String AVATAR = "images/avatar-256.jpg";

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  private static HttpResponse<byte[]> putWith(long owner, String authorization) {
    HttpRequest.Builder request = server.request("/users/" + owner + "/avatar").header("Content-Type", "image/jpeg");
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return server.send(request.PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture(AVATAR))));
  }

  @Test
  @DisplayName("User A can neither replace nor delete user B's avatar (403); B's avatar is intact")
  void ownerOnly() {
    long a = server.createUser("A");
    long b = server.createUser("B");
    byte[] bAvatar = Bodies.fixture("images/avatar-200.webp");
    assertEquals(201, server.put(b, "image/webp", bAvatar).statusCode());

    HttpResponse<byte[]> replace = server.send(server.as(a, "/users/" + b + "/avatar").header("Content-Type", "image/jpeg")
      .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture(AVATAR))));
    HttpResponse<byte[]> multipart = server.send(server.as(a, "/users/" + b + "/avatar")
      .header("Content-Type", io.avatarserver.support.Multipart.CONTENT_TYPE)
      .POST(HttpRequest.BodyPublishers.ofByteArray(new io.avatarserver.support.Multipart()
        .file("avatar", "a.jpg", "image/jpeg", Bodies.fixture(AVATAR)).build())));
    HttpResponse<byte[]> delete = server.send(server.as(a, "/users/" + b + "/avatar").DELETE());

    for (HttpResponse<byte[]> response : List.of(replace, multipart, delete)) {
      assertEquals(403, response.statusCode(), () -> response.request().method());
      assertEquals("urn:problem:avatar-server:forbidden", TestServer.json(response).getString("type"));
    }
    assertArrayEquals(bAvatar, server.get("/users/" + b + "/avatar").body());
    assertEquals(1, server.avatarFiles(b).size());
  }

  @Test
  @DisplayName("Without a token, PUT, POST and DELETE answer 401 with WWW-Authenticate: Bearer")
  void noToken() {
    long user = server.createUser("anonymous-target");
    HttpResponse<byte[]> put = putWith(user, null);
    HttpResponse<byte[]> post = server.send(server.request("/users/" + user + "/avatar")
      .header("Content-Type", io.avatarserver.support.Multipart.CONTENT_TYPE)
      .POST(HttpRequest.BodyPublishers.ofByteArray(new io.avatarserver.support.Multipart()
        .file("avatar", "a.jpg", "image/jpeg", Bodies.fixture(AVATAR)).build())));
    HttpResponse<byte[]> delete = server.send(server.request("/users/" + user + "/avatar").DELETE());

    for (HttpResponse<byte[]> response : List.of(put, post, delete)) {
      assertEquals(401, response.statusCode());
      assertEquals("Bearer realm=\"avatar-server\"", response.headers().firstValue("WWW-Authenticate").orElse(""));
      assertEquals("urn:problem:avatar-server:unauthorized", TestServer.json(response).getString("type"));
    }
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bad-signature", "expired", "alg-none", "no-expiry", "wrong-issuer", "not-a-user",
    "malformed", "three-garbage-parts", "not-bearer", "empty-bearer"})
  @DisplayName("A bad, expired, unsigned or malformed token answers 401 with error=\"invalid_token\"")
  void invalidTokens(String kind) {
    long user = server.createUser("target-" + kind);
    String id = Long.toString(user);
    String token = switch (kind) {
      case "bad-signature" -> Jwts.hs256(Jwts.claims(id, 600), "another-secret-0123456789-abcdefghijklmnopqrstuvwxyz");
      case "expired" -> Jwts.hs256(Jwts.claims(id, -3600), TestServer.SECRET);
      case "alg-none" -> Jwts.unsigned(Jwts.claims(id, 600));
      case "no-expiry" -> Jwts.hs256(Jwts.claims(id, 600).copy().put("exp", (Object) null), TestServer.SECRET);
      case "wrong-issuer" -> Jwts.hs256(Jwts.claims(id, 600).put("iss", "someone-else"), TestServer.SECRET);
      case "not-a-user" -> Jwts.hs256(Jwts.claims("alice", 600), TestServer.SECRET);
      case "malformed" -> "not-a-jwt";
      case "three-garbage-parts" -> "a.b.c";
      case "not-bearer", "empty-bearer" -> null;
      default -> throw new IllegalArgumentException(kind);
    };
    String authorization = switch (kind) {
      case "not-bearer" -> "Basic dXNlcjpwYXNz";
      case "empty-bearer" -> "Bearer ";
      default -> "Bearer " + token;
    };

    HttpResponse<byte[]> response = putWith(user, authorization);

    assertEquals(401, response.statusCode(), () -> new String(response.body()));
    assertEquals("Bearer realm=\"avatar-server\", error=\"invalid_token\"",
      response.headers().firstValue("WWW-Authenticate").orElse(""));
    assertEquals(List.of(), server.avatarFiles(user));
  }

  /** A detail in the server's words: no Java class, no exception, no parser or library jargon. */
  static void assertOwnWords(String detail) {
    for (String jargon : List.of("Exception", "java.", "javax.", "io.vertx", "com.fasterxml", "Jackson", "StreamReadFeature",
      "<null>", "end-of-input", "class ", "algorithm [", "Unexpected character", "Cannot ", "cast")) {
      assertFalse(detail.contains(jargon), () -> "'" + jargon + "' in the detail: " + detail);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"roles-string", "roles-number", "roles-object", "roles-of-numbers", "roles-null",
    "exp-string", "exp-object", "exp-array", "exp-boolean", "exp-huge", "sub-number", "sub-object", "sub-array",
    "sub-null", "iat-string", "iat-object", "nbf-string", "nbf-array", "nbf-null", "aud-number", "aud-of-numbers",
    "iss-number", "crit-header", "crit-empty", "alg-hs512", "alg-number", "alg-missing", "typ-number",
    "header-array", "payload-array", "payload-not-json", "header-not-json", "payload-string", "bad-base64",
    "four-parts", "empty-signature", "spaces"})
  @DisplayName("A correctly signed token with claims of the wrong types, or a header we do not support, is 401 in our words")
  void strangeTokens(String kind) {
    long user = server.createUser("strange-" + kind);
    String id = Long.toString(user);
    String secret = TestServer.SECRET;
    JsonObject jwtHeader = new JsonObject().put("alg", "HS256").put("typ", "JWT");
    String token = switch (kind) {
      case "roles-string" -> Jwts.hs256(Jwts.claims(id, 600).put("roles", "admin"), secret);
      case "roles-number" -> Jwts.hs256(Jwts.claims(id, 600).put("roles", 7), secret);
      case "roles-object" -> Jwts.hs256(Jwts.claims(id, 600).put("roles", new JsonObject().put("admin", true)), secret);
      case "roles-of-numbers" -> Jwts.hs256(Jwts.claims(id, 600).put("roles", new JsonArray().add(1).add("admin")), secret);
      case "roles-null" -> Jwts.hs256(Jwts.claims(id, 600).putNull("roles"), secret);
      case "exp-string" -> Jwts.hs256(Jwts.claims(id, 600).put("exp", "4102444800"), secret);
      case "exp-object" -> Jwts.hs256(Jwts.claims(id, 600).put("exp", new JsonObject()), secret);
      case "exp-array" -> Jwts.hs256(Jwts.claims(id, 600).put("exp", new JsonArray().add(4102444800L)), secret);
      case "exp-boolean" -> Jwts.hs256(Jwts.claims(id, 600).put("exp", true), secret);
      case "exp-huge" -> Jwts.hs256Raw(jwtHeader.encode(), Jwts.claims(id, 600).encode()
        .replaceFirst("\"exp\":[0-9]+", "\"exp\":1e400"), secret);
      case "sub-number" -> Jwts.hs256(Jwts.claims(id, 600).put("sub", user), secret);
      case "sub-object" -> Jwts.hs256(Jwts.claims(id, 600).put("sub", new JsonObject().put("id", id)), secret);
      case "sub-array" -> Jwts.hs256(Jwts.claims(id, 600).put("sub", new JsonArray().add(id)), secret);
      case "sub-null" -> Jwts.hs256(Jwts.claims(id, 600).putNull("sub"), secret);
      case "iat-string" -> Jwts.hs256(Jwts.claims(id, 600).put("iat", "yesterday"), secret);
      case "iat-object" -> Jwts.hs256(Jwts.claims(id, 600).put("iat", new JsonObject()), secret);
      case "nbf-string" -> Jwts.hs256(Jwts.claims(id, 600).put("nbf", "now"), secret);
      case "nbf-array" -> Jwts.hs256(Jwts.claims(id, 600).put("nbf", new JsonArray()), secret);
      case "nbf-null" -> Jwts.hs256(Jwts.claims(id, 600).putNull("nbf"), secret);
      case "aud-number" -> Jwts.hs256(Jwts.claims(id, 600).put("aud", 1), secret);
      case "aud-of-numbers" -> Jwts.hs256(Jwts.claims(id, 600).put("aud", new JsonArray().add(1).add("avatar-server")), secret);
      case "iss-number" -> Jwts.hs256(Jwts.claims(id, 600).put("iss", 1), secret);
      case "crit-header" -> Jwts.hs256(jwtHeader.copy().put("crit", new JsonArray().add("exp")).put("exp", 1), Jwts.claims(id, 600), secret);
      case "crit-empty" -> Jwts.hs256(jwtHeader.copy().put("crit", new JsonArray()), Jwts.claims(id, 600), secret);
      case "alg-hs512" -> Jwts.hs256(jwtHeader.copy().put("alg", "HS512"), Jwts.claims(id, 600), secret);
      case "alg-number" -> Jwts.hs256(jwtHeader.copy().put("alg", 256), Jwts.claims(id, 600), secret);
      case "alg-missing" -> Jwts.hs256(new JsonObject().put("typ", "JWT"), Jwts.claims(id, 600), secret);
      case "typ-number" -> Jwts.hs256(jwtHeader.copy().put("typ", 1), Jwts.claims(id, 600), secret);
      case "header-array" -> Jwts.hs256Raw("[\"HS256\"]", Jwts.claims(id, 600).encode(), secret);
      case "payload-array" -> Jwts.hs256Raw(jwtHeader.encode(), "[1,2,3]", secret);
      case "payload-not-json" -> Jwts.hs256Raw(jwtHeader.encode(), "{\"sub\":", secret);
      case "header-not-json" -> Jwts.hs256Raw("{\"alg\":\"HS256\"", Jwts.claims(id, 600).encode(), secret);
      case "payload-string" -> Jwts.hs256Raw(jwtHeader.encode(), "\"" + id + "\"", secret);
      case "bad-base64" -> "eyJ.eyJ.x";
      case "four-parts" -> Jwts.hs256(Jwts.claims(id, 600), secret) + ".abc";
      case "empty-signature" -> Jwts.hs256(Jwts.claims(id, 600), secret).replaceFirst("[^.]+$", "");
      case "spaces" -> Jwts.hs256(Jwts.claims(id, 600), secret).replace(".", " . ");
      default -> throw new IllegalArgumentException(kind);
    };

    HttpResponse<byte[]> response = putWith(user, "Bearer " + token);

    assertEquals(401, response.statusCode(), () -> new String(response.body()));
    assertEquals("Bearer realm=\"avatar-server\", error=\"invalid_token\"",
      response.headers().firstValue("WWW-Authenticate").orElse(""));
    JsonObject problem = TestServer.json(response);
    assertEquals("urn:problem:avatar-server:invalid-token", problem.getString("type"));
    assertOwnWords(problem.getString("detail"));
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A token whose nbf is in the future is \"not yet valid\", not expired; one with an unknown crit names it")
  void notYetValid() {
    long user = server.createUser("not-yet");
    long now = System.currentTimeMillis() / 1000;
    HttpResponse<byte[]> early = putWith(user, "Bearer " + Jwts.hs256(Jwts.claims(Long.toString(user), 7200)
      .put("nbf", now + 3600), TestServer.SECRET));
    assertEquals(401, early.statusCode());
    String detail = TestServer.json(early).getString("detail");
    assertTrue(detail.contains("not yet valid"), detail);
    assertFalse(detail.contains("expired"), detail);

    HttpResponse<byte[]> crit = putWith(user, "Bearer " + Jwts.hs256(new JsonObject().put("alg", "HS256")
      .put("crit", new JsonArray().add("http://example.com/extension")).put("http://example.com/extension", true),
      Jwts.claims(Long.toString(user), 600), TestServer.SECRET));
    assertEquals(401, crit.statusCode());
    assertTrue(TestServer.json(crit).getString("detail").contains("crit"));

    // Time claims as fractions and a past nbf are fine: a NumericDate may have a fraction.
    HttpResponse<byte[]> ok = putWith(user, "Bearer " + Jwts.hs256(Jwts.claims(Long.toString(user), 600)
      .put("nbf", now - 10.5).put("iat", now - 0.25).put("exp", now + 600.75), TestServer.SECRET));
    assertEquals(201, ok.statusCode(), () -> new String(ok.body()));
  }

  @Test
  @DisplayName("Two Authorization headers are refused as an invalid token")
  void twoAuthorizationHeaders() {
    long user = server.createUser("two-headers");
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write("DELETE /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n" + server.authHeader(user)
        + server.authHeader(user) + "\r\n");
      String response = raw.readResponse();
      assertEquals(401, RawHttp.status(response), response);
      assertTrue(response.contains("error=\"invalid_token\""), response);
    }
  }

  @Test
  @DisplayName("A refused token is decided before the body: with Expect: 100-continue no 100 is sent")
  void decidedBeforeBody() {
    long a = server.createUser("early-a");
    long b = server.createUser("early-b");
    for (String auth : new String[] {"", server.authHeader(a), "Authorization: Bearer junk\r\n"}) {
      try (RawHttp raw = new RawHttp(server.port())) {
        raw.write("PUT /users/" + b + "/avatar HTTP/1.1\r\nHost: t\r\nContent-Type: image/jpeg\r\n" + auth
          + "Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
        String response = raw.readResponse();
        int status = RawHttp.status(response);
        assertTrue(status == 401 || status == 403, response);
        assertTrue(raw.closedByServer());
      }
    }
    assertEquals(List.of(), server.stagedFiles());
  }

  @Test
  @DisplayName("POST /users is admin-only: 401 anonymous, 403 for a user's token, 201 for an admin's")
  void createUsersIsAdminOnly() {
    long user = server.createUser("not-admin");
    String body = "{\"name\":\"x\"}";
    assertEquals(401, server.send(server.request("/users").header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body))).statusCode());
    assertEquals(403, server.send(server.as(user, "/users").header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body))).statusCode());
    assertEquals(201, server.send(server.asAdmin("/users").header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body))).statusCode());
  }

  @Test
  @DisplayName("An admin token may write and delete any user's avatar")
  void adminWritesAny() {
    long user = server.createUser("admin-target");
    HttpResponse<byte[]> put = server.send(server.asAdmin("/users/" + user + "/avatar").header("Content-Type", "image/jpeg")
      .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture(AVATAR))));
    assertEquals(201, put.statusCode());
    assertEquals(204, server.send(server.asAdmin("/users/" + user + "/avatar").DELETE()).statusCode());
  }

  @Test
  @DisplayName("GET, HEAD and info stay public")
  void readsArePublic() {
    long user = server.createUser("public");
    assertEquals(201, server.put(user, "image/jpeg", Bodies.fixture(AVATAR)).statusCode());
    assertEquals(200, server.get("/users/" + user + "/avatar").statusCode());
    assertEquals(200, server.get("/users/" + user + "/avatar/info").statusCode());
    assertEquals(200, server.send(server.request("/users/" + user + "/avatar")
      .method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode());
  }

  @Test
  @DisplayName("A token names its user: the owner's own token works for PUT and DELETE")
  void ownTokenWorks() {
    long user = server.createUser("own");
    JsonObject info = TestServer.json(server.put(user, "image/jpeg", Bodies.fixture(AVATAR)));
    assertEquals(user, info.getLong("userId"));
    assertEquals(204, server.send(server.as(user, "/users/" + user + "/avatar").DELETE()).statusCode());
  }
}
