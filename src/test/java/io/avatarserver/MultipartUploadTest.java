package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.Multipart;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;

import static io.avatarserver.support.Problems.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("Multipart uploads: POST with the file in field 'avatar', streamed from the part")
class MultipartUploadTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  private HttpResponse<byte[]> post(long user, byte[] body) {
    return server.send(server.as(user, "/users/" + user + "/avatar")
      .header("Content-Type", Multipart.CONTENT_TYPE)
      .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  @Test
  @DisplayName("A PNG in field 'avatar' is stored (201), a replacement answers 200, text fields are ignored")
  void createAndReplace() throws Exception {
    long user = server.createUser("multipart");
    byte[] png = Bodies.fixture("images/avatar-200.png");
    byte[] jpeg = Bodies.fixture("images/large-1200.jpg");

    HttpResponse<byte[]> created = post(user, new Multipart().field("note", "hello")
      .file("avatar", "me.png", "image/png", png).build());
    assertEquals(201, created.statusCode(), () -> new String(created.body()));
    byte[] stored = Images.stored(png);
    assertEquals(stored.length, TestServer.json(created).getLong("size"));
    assertEquals(Bodies.sha256(stored), TestServer.json(created).getString("sha256"));

    HttpResponse<byte[]> replaced = post(user, new Multipart().file("avatar", "me.jpg", "image/jpeg", jpeg)
      .field("after", "ignored").build());
    assertEquals(200, replaced.statusCode(), () -> new String(replaced.body()));
    assertArrayEquals(jpeg, server.get("/users/" + user + "/avatar").body());
    assertEquals(1, server.avatarFiles(user).size());
    assertArrayEquals(jpeg, Files.readAllBytes(server.avatarFiles(user).get(0)));
  }

  @Test
  @DisplayName("A chunked multipart body is streamed and stored")
  void chunked() {
    long user = server.createUser("multipart-chunked");
    byte[] gif = Bodies.fixture("images/avatar-64.gif");
    byte[] body = new Multipart().file("avatar", "a.gif", "image/gif", gif).build();

    HttpResponse<byte[]> response = server.send(server.as(user, "/users/" + user + "/avatar")
      .header("Content-Type", Multipart.CONTENT_TYPE)
      .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));

    assertEquals(201, response.statusCode(), () -> new String(response.body()));
    assertArrayEquals(gif, server.get("/users/" + user + "/avatar").body());
  }

  @Test
  @DisplayName("A part whose bytes contradict its Content-Type is refused with 415")
  void partTypeMismatch() {
    long user = server.createUser("multipart-415");
    HttpResponse<byte[]> response = post(user,
      new Multipart().file("avatar", "a.jpg", "image/jpeg", Bodies.fixture("images/avatar-200.png")).build());

    assertRefused(response, 415, "content-type-mismatch");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A part of another type (text/html) is refused with 415")
  void partUnsupportedType() {
    long user = server.createUser("multipart-html");
    HttpResponse<byte[]> response = post(user,
      new Multipart().file("avatar", "a.html", "text/html", Bodies.fixture("hostile/html-as-png.png")).build());

    assertRefused(response, 415, "unsupported-media-type");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A form without a file in field 'avatar' is refused with 400")
  void missingPart() {
    long user = server.createUser("multipart-missing");
    HttpResponse<byte[]> response = post(user, new Multipart().field("avatar", "not a file").build());

    assertRefused(response, 400, "missing-avatar-part");
  }

  @Test
  @DisplayName("A file in another field is refused with 400")
  void unexpectedPart() {
    long user = server.createUser("multipart-other");
    HttpResponse<byte[]> response = post(user,
      new Multipart().file("picture", "a.png", "image/png", Bodies.fixture("images/avatar-200.png")).build());

    assertRefused(response, 400, "unexpected-part");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A file part one byte over 10 MiB is refused with 413 as it streams; nothing is stored")
  void partOverCap() {
    long user = server.createUser("multipart-413");
    HttpResponse<byte[]> response = post(user,
      new Multipart().file("avatar", "big.png", "image/png", Bodies.png(10 * 1024 * 1024 + 1, 1)).build());

    assertRefused(response, 413, "payload-too-large");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A multipart Content-Length far over the cap is refused with 413 before the body is read")
  void contentLengthOverCap() {
    long user = server.createUser("multipart-413-early");
    HttpResponse<byte[]> response = post(user,
      new Multipart().file("avatar", "big.png", "image/png", Bodies.png(11 * 1024 * 1024, 1)).build());

    assertRefused(response, 413, "payload-too-large");
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("POST with a raw image body instead of multipart is refused with 415")
  void notMultipart() {
    long user = server.createUser("multipart-raw");
    HttpResponse<byte[]> response = server.send(server.as(user, "/users/" + user + "/avatar")
      .header("Content-Type", "image/png")
      .POST(HttpRequest.BodyPublishers.ofByteArray(Bodies.fixture("images/avatar-200.png"))));

    assertRefused(response, 415, "unsupported-media-type");
  }

  @Test
  @DisplayName("A multipart upload for an unknown user is refused with 404")
  void unknownUser() {
    HttpResponse<byte[]> response = post(555_555_555L,
      new Multipart().file("avatar", "a.png", "image/png", Bodies.fixture("images/avatar-200.png")).build());

    assertRefused(response, 404, "user-not-found");
  }
}
