package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("Content types: the bytes decide")
class ContentTypeTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  @ParameterizedTest(name = "{0} as {1}")
  @CsvSource({
    "images/avatar-256.jpg, image/jpeg",
    "images/large-1200.jpg, image/jpeg",
    "images/avatar-200.png, image/png",
    "images/avatar-128.png, image/png",
    "images/avatar-200.webp, image/webp",
    "images/avatar-64.gif, image/gif",
    "images/avatar-256.jpg, 'image/jpeg; charset=binary'",
  })
  @DisplayName("A real JPEG, PNG, WebP or GIF is accepted and served with its type")
  void realImages(String fixture, String contentType) {
    long user = server.createUser(fixture);
    byte[] body = Bodies.fixture(fixture);

    HttpResponse<byte[]> put = server.put(user, contentType, body);

    assertEquals(201, put.statusCode(), () -> new String(put.body()));
    String type = contentType.split(";")[0];
    assertEquals(type, TestServer.json(put).getString("contentType"));
    HttpResponse<byte[]> get = server.get("/users/" + user + "/avatar");
    assertEquals(type, get.headers().firstValue("Content-Type").orElse(""));
    // Stored as sent, less privacy-leaking metadata (the PNG fixtures carry tEXt chunks).
    assertArrayEquals(Images.stored(body), get.body());
  }

  @ParameterizedTest(name = "{0} declared {1}")
  @CsvSource({
    "images/avatar-256.jpg, image/png, content-type-mismatch",
    "images/avatar-200.png, image/jpeg, content-type-mismatch",
    "images/avatar-200.webp, image/gif, content-type-mismatch",
    "images/avatar-64.gif, image/webp, content-type-mismatch",
    "hostile/html-as-png.png, image/png, unsupported-media-type",
    "hostile/random-bytes.bin, image/jpeg, unsupported-media-type",
    "hostile/script.svg, image/png, unsupported-media-type",
  })
  @DisplayName("Bytes that contradict the declared type are refused with 415 and nothing is stored")
  void mismatch(String fixture, String declared, String problem) {
    long user = server.createUser(fixture);

    HttpResponse<byte[]> put = server.put(user, declared, Bodies.fixture(fixture));

    assertRefused(put, 415, problem);
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"image/svg+xml", "text/html", "application/octet-stream", "image/bmp", "image/tiff", "image/jpg"})
  @DisplayName("Any other declared type is refused with 415 before the body is read")
  void unsupportedDeclaredType(String declared) {
    long user = server.createUser(declared);

    HttpResponse<byte[]> put = server.put(user, declared, Bodies.fixture("images/avatar-256.jpg"));

    assertRefused(put, 415, "unsupported-media-type");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A PUT without Content-Type is refused with 415")
  void missingContentType() {
    long user = server.createUser("no-type");

    HttpResponse<byte[]> put = server.send(server.as(user, "/users/" + user + "/avatar")
      .PUT(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture("images/avatar-256.jpg"))));

    assertRefused(put, 415, "unsupported-media-type");
  }
}
