package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("upload.maxDimension, upload.maxPixels and upload.stripMetadata are honoured")
class ImageLimitsConfigTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx, new JsonObject().put("upload",
      new JsonObject().put("maxDimension", 300).put("maxPixels", 70_000).put("stripMetadata", false)));
  }

  private static byte[] png(int width, int height) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < width; x++) {
      image.setRGB(x, 0, x * 0x010203); // some content, to be above the 100-byte minimum
    }
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private void assertFlood(byte[] body, String detail) {
    long user = server.createUser("limits");
    HttpResponse<byte[]> put = server.put(user, "image/png", body);
    assertEquals(422, put.statusCode(), () -> new String(put.body()));
    assertTrue(TestServer.json(put).getString("detail").contains(detail), () -> new String(put.body()));
    assertEquals(java.util.List.of(), server.avatarFiles(user));
  }

  @Test
  @DisplayName("A side above maxDimension → 422; more pixels than maxPixels → 422; within both → 201")
  void limits() throws IOException {
    assertFlood(png(301, 10), "largest side allowed is 300");
    assertFlood(png(10, 301), "largest side allowed is 300");
    assertFlood(png(265, 265), "at most 70000");
    long user = server.createUser("within");
    HttpResponse<byte[]> ok = server.put(user, "image/png", png(300, 50));
    assertEquals(201, ok.statusCode());
    assertEquals(300, TestServer.json(ok).getInteger("width"));
    assertEquals(50, TestServer.json(ok).getInteger("height"));
  }

  @Test
  @DisplayName("With stripMetadata off, a 256×256 JPEG's EXIF (GPS included) is stored as sent")
  void strippingOff() {
    byte[] body = Bodies.fixture("images/gps-tagged.jpg");
    long user = server.createUser("keep-exif");
    assertEquals(201, server.put(user, "image/jpeg", body).statusCode());
    assertArrayEquals(body, server.get("/users/" + user + "/avatar").body());
  }
}
