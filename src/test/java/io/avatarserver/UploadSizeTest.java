package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Upload sizes")
class UploadSizeTest extends ServerTestBase {

  private static final int MAX = 10 * 1024 * 1024;

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {1024, 100 * 1024, 1024 * 1024, 5 * 1024 * 1024, MAX})
  @DisplayName("An avatar of 1 KiB up to exactly 10 MiB is stored byte for byte and served back")
  void acceptedSizes(int size) throws Exception {
    long user = server.createUser("size-" + size);
    byte[] body = Bodies.png(size, size);

    HttpResponse<byte[]> put = server.put(user, "image/png", body);

    assertEquals(201, put.statusCode(), () -> new String(put.body()));
    JsonObject info = TestServer.json(put);
    assertEquals(size, info.getLong("size"));
    assertEquals(Bodies.sha256(body), info.getString("sha256"));
    List<java.nio.file.Path> files = server.avatarFiles(user);
    assertEquals(1, files.size());
    assertArrayEquals(body, Files.readAllBytes(files.get(0)));
    HttpResponse<byte[]> get = server.get("/users/" + user + "/avatar");
    assertEquals(200, get.statusCode());
    assertArrayEquals(body, get.body());
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {MAX + 1, 11 * 1024 * 1024})
  @DisplayName("A Content-Length above 10 MiB is refused with 413 and nothing is stored")
  void tooLarge(int size) {
    long user = server.createUser("big-" + size);

    HttpResponse<byte[]> put = server.put(user, "image/png", Bodies.png(size, 7));

    assertRefused(put, 413, "payload-too-large");
    assertEquals(List.of(), server.avatarFiles(user));
    assertRefused(server.get("/users/" + user + "/avatar"), 404, "avatar-not-found");
  }

  @Test
  @DisplayName("A Content-Length above the cap is answered 413 before any body byte is sent, then the connection is closed")
  void tooLargeBeforeAnyByte() {
    long user = server.createUser("early-413");
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", MAX + 1));
      String response = raw.readResponse();
      assertEquals(413, RawHttp.status(response), response);
      assertTrue(response.toLowerCase().contains("connection: close"), response);
      // The client keeps sending after the answer: the server reads and discards it, then closes.
      byte[] junk = new byte[64 * 1024];
      for (int i = 0; i < 4; i++) {
        raw.write(junk);
      }
      assertTrue(raw.closedByServer(), "connection left open after an early 413");
    }
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A chunked body (no Content-Length) is counted as it streams: byte cap + 1 gives 413 and no file")
  void chunkedOverCap() {
    long user = server.createUser("chunked-413");
    byte[] body = Bodies.png(MAX + 1, 3);
    try (RawHttp raw = new RawHttp(server.port())) {
      raw.write(server.putHead(user, "image/png", "Transfer-Encoding: chunked", ""));
      int offset = 0;
      String response = null;
      try {
        while (offset < body.length) {
          int n = Math.min(64 * 1024, body.length - offset);
          raw.chunk(body, offset, n);
          offset += n;
        }
        raw.write("0\r\n\r\n");
      } catch (RuntimeException writeFailedAfterClose) {
        // The server may close once it has answered; the answer is still readable.
      }
      response = raw.readResponse();
      assertEquals(413, RawHttp.status(response), response);
      assertTrue(raw.closedByServer(), "connection left open after 413");
    }
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A chunked upload within the cap is stored")
  void chunkedAccepted() {
    long user = server.createUser("chunked");
    byte[] body = Bodies.png(300 * 1024, 11);
    // ofInputStream has no known length: the JDK client sends Transfer-Encoding: chunked.
    HttpResponse<byte[]> put = server.send(server.as(user, "/users/" + user + "/avatar")
      .header("Content-Type", "image/png")
      .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));

    assertEquals(201, put.statusCode(), () -> new String(put.body()));
    assertArrayEquals(body, server.get("/users/" + user + "/avatar").body());
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 50, 99})
  @DisplayName("Fewer than 100 bytes is refused with 422 and nothing is stored")
  void tooSmall(int size) {
    long user = server.createUser("small-" + size);

    HttpResponse<byte[]> put = server.put(user, "image/png", Bodies.pngPrefix(size));

    assertRefused(put, 422, "avatar-too-small");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("The 50-byte PNG fixture is refused with 422")
  void fiftyByteFixture() {
    long user = server.createUser("fifty");
    assertRefused(server.put(user, "image/png", Bodies.fixture("hostile/fifty-bytes.png")), 422, "avatar-too-small");
  }
}
