package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.TestS3;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The object store backend with {@code storage.s3PresignSeconds}: a GET is a redirect to the store. */
@DisplayName("Presigned redirects: GET answers 302 to a signed URL of the store, which serves the bytes")
class PresignedRedirectTest extends ServerTestBase {

  private static String bucket;

  @BeforeAll
  static void start(Vertx vertx) {
    TestS3 s3 = TestS3.shared();
    bucket = s3.newBucket();
    startServer(vertx, new JsonObject().put("storage", s3.settings(bucket).put("s3PresignSeconds", 300)));
  }

  @Test
  @DisplayName("302 with a Location signed for the object, not cached; the store serves the avatar there; 304 and HEAD stay local")
  void redirect() throws Exception {
    long user = server.createUser("presigned");
    byte[] body = Bodies.fixture("images/avatar-200.png");
    assertEquals(201, server.put(user, "image/png", body).statusCode());

    HttpResponse<byte[]> response = server.get("/users/" + user + "/avatar");
    assertEquals(302, response.statusCode());
    assertEquals("no-store", response.headers().firstValue("Cache-Control").orElse(""));
    String location = response.headers().firstValue("Location").orElseThrow();
    assertTrue(location.startsWith(server.s3().endpoint() + "/" + bucket + "/avatars/" + user + "/"), location);
    assertTrue(location.contains("X-Amz-Signature="), location);
    assertTrue(location.contains("X-Amz-Expires=300"), location);

    HttpResponse<byte[]> fromStore = server.client().send(HttpRequest.newBuilder(URI.create(location)).GET().build(),
      HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, fromStore.statusCode(), () -> new String(fromStore.body()));
    assertArrayEquals(Images.stored(body), fromStore.body());

    String etag = "\"" + Bodies.sha256(Images.stored(body)) + "\"";
    assertEquals(304, server.send(server.request("/users/" + user + "/avatar").header("If-None-Match", etag).GET())
      .statusCode());
    assertEquals(200, server.send(server.request("/users/" + user + "/avatar")
      .method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode());
  }
}
