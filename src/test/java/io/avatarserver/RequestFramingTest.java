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

  @ParameterizedTest(name = "Transfer-Encoding: {0}")
  @ValueSource(strings = {"identity", "gzip", "gzip, identity", "chunked, identity", "chunked, gzip", "gzip, chunked",
    "chunked, chunked", "Identity", "gzip|chunked"})
  @DisplayName("A Transfer-Encoding other than chunked alone is 400 and closes: what follows is never run as a request")
  void transferCodingsOtherThanChunked(String codings) {
    long user = server.createUser("coding-" + codings.replaceAll("[^a-z]", "-"));
    String lines = java.util.Arrays.stream(codings.split("\\|")).map(c -> "Transfer-Encoding: " + c + "\r\n")
      .collect(java.util.stream.Collectors.joining());
    String smuggled = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    String body = codings.endsWith("chunked") ? Integer.toHexString(smuggled.length()) + "\r\n" + smuggled + "\r\n0\r\n\r\n"
      : smuggled;
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write("PUT /users/" + user + "/avatar HTTP/1.1\r\nHost: t\r\n" + server.authHeader(user)
        + "Content-Type: image/png\r\n" + lines + "\r\n" + body);
      String response = raw.readResponse();
      assertEquals(400, RawHttp.status(response), response);
      assertTrue(response.contains("application/problem+json"), response);
      assertTrue(response.contains("Transfer-Encoding"), response);
      assertTrue(raw.closedByServer(), "connection left open");
    }
    assertEquals(java.util.List.of(), server.avatarFiles(user));
  }

  @org.junit.jupiter.api.Test
  @DisplayName("Chunk extensions (RFC 9112 §7.1.1) are accepted and ignored, in every chunk and the last")
  void chunkExtensions() {
    long user = server.createUser("chunk-extensions");
    byte[] png = io.avatarserver.support.Bodies.png(20_000, 7);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", "Transfer-Encoding: chunked", ""));
      int at = 0;
      String[] extensions = {";name=value", " ; a=1 ;b=\"quoted;\\\" x\"", ";flag", ";n=v;m=w"};
      for (int i = 0; at < png.length; i++) {
        int length = Math.min(4096, png.length - at);
        String line = Integer.toHexString(length) + extensions[i % extensions.length] + "\r\n";
        // Every other chunk-size line is written in two pieces, split inside its extension.
        if (i % 2 == 1) {
          raw.write(line.substring(0, line.length() / 2));
          raw.write(line.substring(line.length() / 2));
        } else {
          raw.write(line);
        }
        raw.write(png, at, length);
        raw.write("\r\n");
        at += length;
      }
      raw.write("0;last=yes\r\n\r\n");
      String response = raw.readResponse();
      assertEquals(201, RawHttp.status(response), response);
      // The connection goes on.
      raw.write("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
      assertEquals(200, RawHttp.status(raw.readResponse()));
    }
    assertEquals(1, server.avatarFiles(user).size());
  }
}
