package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Single byte ranges (RFC 9110 §14), on the backend of the Surefire execution: local files or the object store. */
@DisplayName("Byte ranges: 206 with Content-Range, 416, and the whole avatar where a range does not apply")
class RangeTest extends ServerTestBase {

  private static byte[] body;
  private static long user;

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
    body = Bodies.fixture("images/large-1200.jpg");
    user = server.createUser("ranges");
    assertEquals(201, server.put(user, "image/jpeg", body).statusCode());
  }

  private static HttpResponse<byte[]> get(String... headers) {
    HttpRequest.Builder request = server.request("/users/" + user + "/avatar");
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return server.send(request.GET());
  }

  private static void assertPartial(HttpResponse<byte[]> response, int from, int to) {
    assertEquals(206, response.statusCode(), () -> new String(response.body()));
    assertEquals("bytes " + from + "-" + to + "/" + body.length, response.headers().firstValue("Content-Range").orElse(""));
    assertEquals(String.valueOf(to - from + 1), response.headers().firstValue("Content-Length").orElse(""));
    assertEquals("image/jpeg", response.headers().firstValue("Content-Type").orElse(""));
    assertEquals("\"" + Bodies.sha256(body) + "\"", response.headers().firstValue("ETag").orElse(""));
    assertArrayEquals(Arrays.copyOfRange(body, from, to + 1), response.body());
  }

  @Test
  @DisplayName("bytes=a-b, a-, -n and a range across many chunks are each answered 206 with exactly those bytes")
  void singleRanges() {
    int n = body.length;
    assertPartial(get("Range", "bytes=0-99"), 0, 99);
    assertPartial(get("Range", "bytes=100-"), 100, n - 1);
    assertPartial(get("Range", "bytes=-50"), n - 50, n - 1);
    assertPartial(get("Range", "bytes=" + (n / 3) + "-" + (2 * n / 3)), n / 3, 2 * n / 3);
    assertPartial(get("Range", "bytes=" + (n - 10) + "-" + (10L * n)), n - 10, n - 1);
    assertPartial(get("Range", "bytes=-" + (10L * n)), 0, n - 1);
    assertPartial(get("Range", "bytes=5-5"), 5, 5);
  }

  @Test
  @DisplayName("A range starting at or after the end is 416 with Content-Range: bytes */size and a problem body")
  void unsatisfiable() {
    for (String range : new String[] {"bytes=" + body.length + "-", "bytes=" + (body.length + 5) + "-" + (body.length + 9),
      "bytes=-0", "bytes=99999999999999999999999-"}) {
      HttpResponse<byte[]> response = get("Range", range);
      assertRefused(response, 416, "range-not-satisfiable");
      assertEquals("bytes */" + body.length, response.headers().firstValue("Content-Range").orElse(""), range);
    }
  }

  @ParameterizedTest(name = "Range: {0}")
  @ValueSource(strings = {"bytes=0-1,5-6", "bytes=abc", "bytes=5-1", "items=0-5", "bytes=", "bytes=-", "bytes=1-2-3"})
  @DisplayName("Several ranges, another unit or a malformed field: the whole avatar, 200")
  void ignored(String range) {
    HttpResponse<byte[]> response = get("Range", range);
    assertEquals(200, response.statusCode());
    assertArrayEquals(body, response.body());
    assertEquals("bytes", response.headers().firstValue("Accept-Ranges").orElse(""));
  }

  @Test
  @DisplayName("If-Range: the current ETag gets the range, another version's the whole new avatar")
  void ifRange() {
    String etag = "\"" + Bodies.sha256(body) + "\"";
    assertPartial(get("Range", "bytes=0-9", "If-Range", etag), 0, 9);
    HttpResponse<byte[]> other = get("Range", "bytes=0-9", "If-Range", "\"" + "0".repeat(64) + "\"");
    assertEquals(200, other.statusCode());
    assertArrayEquals(body, other.body());
  }

  @Test
  @DisplayName("HEAD and 304 ignore Range; HEAD says Accept-Ranges: bytes")
  void headAndNotModified() {
    HttpResponse<byte[]> head = server.send(server.request("/users/" + user + "/avatar").header("Range", "bytes=0-9")
      .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, head.statusCode());
    assertEquals("bytes", head.headers().firstValue("Accept-Ranges").orElse(""));
    assertEquals(String.valueOf(body.length), head.headers().firstValue("Content-Length").orElse(""));
    HttpResponse<byte[]> notModified = get("Range", "bytes=0-9", "If-None-Match", "\"" + Bodies.sha256(body) + "\"");
    assertEquals(304, notModified.statusCode());
  }
}
