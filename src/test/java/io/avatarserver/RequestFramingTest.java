package io.avatarserver;

import io.avatarserver.support.RawHttp;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Malformed framing and oversized heads: 400 or 431 as problem JSON, and the connection closed")
class RequestFramingTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"length-and-chunked", "two-lengths", "same-length-twice", "non-numeric-length",
    "negative-length", "too-many-headers", "huge-header"})
  @DisplayName("Each is refused with its status and the connection is closed")
  void refused(String kind) {
    long user = server.createUser("framing-" + kind);
    String auth = server.authHeader(user);
    String start = "PUT /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n" + auth;
    String request = switch (kind) {
      case "length-and-chunked" -> start + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
      case "two-lengths" -> start + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
      case "same-length-twice" -> start + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello";
      case "non-numeric-length" -> start + "Content-Length: five\r\n\r\nhello";
      case "negative-length" -> start + "Content-Length: -5\r\n\r\nhello";
      case "too-many-headers" -> start + "X-Pad: 1\r\n".repeat(100) + "Content-Length: 5\r\n\r\nhello";
      case "huge-header" -> start + "X-Pad: " + "a".repeat(16 * 1024) + "\r\nContent-Length: 5\r\n\r\nhello";
      default -> throw new IllegalArgumentException(kind);
    };
    int expected = kind.equals("too-many-headers") || kind.equals("huge-header") ? 431 : 400;
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(request);
      String response = raw.readResponse();
      assertEquals(expected, RawHttp.status(response), response);
      assertTrue(response.contains("application/problem+json"), response);
      assertTrue(raw.closedByServer(), "connection left open after " + kind);
    }
    assertEquals(java.util.List.of(), server.avatarFiles(user));
  }
}
