package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Serving avatars: GET, HEAD, validators and security headers")
class ServingTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  private long userWithAvatar(byte[] body) {
    long user = server.createUser("serving");
    assertEquals(201, server.put(user, "image/jpeg", body).statusCode());
    return user;
  }

  @Test
  @DisplayName("GET sends the bytes with type, length, a strong SHA-256 ETag, Last-Modified, Cache-Control and the security headers")
  void get() {
    byte[] body = Bodies.fixture("images/large-1200.jpg");
    long user = userWithAvatar(body);

    HttpResponse<byte[]> response = server.get("/users/" + user + "/avatar");

    assertEquals(200, response.statusCode());
    assertArrayEquals(body, response.body());
    HttpHeaders h = response.headers();
    assertEquals("image/jpeg", h.firstValue("Content-Type").orElse(""));
    assertEquals(String.valueOf(body.length), h.firstValue("Content-Length").orElse(""));
    assertEquals("\"" + Bodies.sha256(body) + "\"", h.firstValue("ETag").orElse(""));
    ZonedDateTime.parse(h.firstValue("Last-Modified").orElseThrow(), DateTimeFormatter.RFC_1123_DATE_TIME);
    assertEquals("public, no-cache", h.firstValue("Cache-Control").orElse(""));
    assertEquals("nosniff", h.firstValue("X-Content-Type-Options").orElse(""));
    assertEquals("default-src 'none'; sandbox", h.firstValue("Content-Security-Policy").orElse(""));
    assertEquals("inline; filename=\"avatar-" + user + ".jpg\"", h.firstValue("Content-Disposition").orElse(""));
  }

  @Test
  @DisplayName("The versioned URL from the info may be cached for good; a stale version is revalidated")
  void versionedUrl() {
    long user = userWithAvatar(Bodies.fixture("images/avatar-256.jpg"));

    assertEquals("public, max-age=31536000, immutable",
      server.get("/users/" + user + "/avatar?v=1").headers().firstValue("Cache-Control").orElse(""));
    assertEquals("public, no-cache",
      server.get("/users/" + user + "/avatar?v=7").headers().firstValue("Cache-Control").orElse(""));
  }

  @Test
  @DisplayName("HEAD answers the headers of GET, with the Content-Length, and no body")
  void head() {
    byte[] body = Bodies.fixture("images/avatar-256.jpg");
    long user = userWithAvatar(body);

    HttpResponse<byte[]> response = server.send(server.request("/users/" + user + "/avatar")
      .method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertEquals(200, response.statusCode());
    assertEquals(0, response.body().length);
    assertEquals(String.valueOf(body.length), response.headers().firstValue("Content-Length").orElse(""));
    assertEquals("\"" + Bodies.sha256(body) + "\"", response.headers().firstValue("ETag").orElse(""));
    assertEquals("nosniff", response.headers().firstValue("X-Content-Type-Options").orElse(""));
  }

  @Test
  @DisplayName("If-None-Match with the current ETag (or *, or in a list, or weak) answers 304 without a body")
  void notModified() {
    byte[] body = Bodies.fixture("images/avatar-256.jpg");
    long user = userWithAvatar(body);
    String etag = "\"" + Bodies.sha256(body) + "\"";

    for (String ifNoneMatch : new String[] {etag, "*", "\"other\", " + etag, "W/" + etag}) {
      HttpResponse<byte[]> response = server.send(server.request("/users/" + user + "/avatar")
        .header("If-None-Match", ifNoneMatch).GET());
      assertEquals(304, response.statusCode(), ifNoneMatch);
      assertEquals(0, response.body().length);
      assertEquals(etag, response.headers().firstValue("ETag").orElse(""));
    }
    HttpResponse<byte[]> stale = server.send(server.request("/users/" + user + "/avatar")
      .header("If-None-Match", "\"0000\"").GET());
    assertEquals(200, stale.statusCode());
    assertArrayEquals(body, stale.body());
  }

  @Test
  @DisplayName("If-Modified-Since at or after Last-Modified answers 304; before it, 200")
  void ifModifiedSince() {
    long user = userWithAvatar(Bodies.fixture("images/avatar-256.jpg"));
    String lastModified = server.get("/users/" + user + "/avatar").headers().firstValue("Last-Modified").orElseThrow();
    ZonedDateTime when = ZonedDateTime.parse(lastModified, DateTimeFormatter.RFC_1123_DATE_TIME);

    assertEquals(304, server.send(server.request("/users/" + user + "/avatar")
      .header("If-Modified-Since", lastModified).GET()).statusCode());
    assertEquals(200, server.send(server.request("/users/" + user + "/avatar")
      .header("If-Modified-Since", DateTimeFormatter.RFC_1123_DATE_TIME.format(when.minusSeconds(10))).GET()).statusCode());
  }

  @Test
  @DisplayName("After a replacement the old ETag no longer matches: the client gets the new bytes")
  void etagChangesOnReplace() {
    byte[] first = Bodies.fixture("images/avatar-256.jpg");
    long user = userWithAvatar(first);
    byte[] second = Bodies.fixture("images/large-1200.jpg");
    assertEquals(200, server.put(user, "image/jpeg", second).statusCode());

    HttpResponse<byte[]> response = server.send(server.request("/users/" + user + "/avatar")
      .header("If-None-Match", "\"" + Bodies.sha256(first) + "\"").GET());

    assertEquals(200, response.statusCode());
    assertArrayEquals(second, response.body());
    assertTrue(response.headers().firstValue("ETag").orElse("").contains(Bodies.sha256(second)));
  }
}
