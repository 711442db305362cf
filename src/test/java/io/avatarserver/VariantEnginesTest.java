package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.TestServer;
import io.avatarserver.support.WorstCaseImages;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The real render engines behind the HTTP routes, as configured by {@code variants.engine}: each one
 * renders a JPEG and a PNG original to a PNG and a JPEG variant of the asked size. {@code vips} needs
 * Debian's libvips (CI installs it); without it the server refuses to start and this test fails.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Sized variants through each render engine (variants.engine java and vips)")
class VariantEnginesTest {

  @ParameterizedTest(name = "variants.engine = {0}")
  @ValueSource(strings = {"java", "vips"})
  void rendersThroughTheEngine(String engine, Vertx vertx) throws Exception {
    JsonObject overrides = new JsonObject().put("variants", new JsonObject().put("engine", engine));
    try (TestServer server = TestServer.start(vertx, overrides)) {
      for (String[] original : new String[][] {{"images/avatar-256.jpg", "image/jpeg"}, {"images/avatar-200.png", "image/png"}}) {
        long user = server.createUser("engine-" + engine);
        assertEquals(201, server.put(user, original[1], Bodies.fixture(original[0])).statusCode());
        for (String[] format : new String[][] {{"png", "image/png"}, {"jpeg", "image/jpeg"}}) {
          HttpResponse<byte[]> variant = server.send(server.request("/users/" + user + "/avatar?size=64&format=" + format[0]));
          assertEquals(200, variant.statusCode(), original[0] + " as " + format[0]);
          assertEquals(format[1], variant.headers().firstValue("Content-Type").orElse(""));
          assertEquals("public, max-age=300", variant.headers().firstValue("Cache-Control").orElse(""),
            "a rendered variant, not the original served as a fallback");
          BufferedImage image = ImageIO.read(new ByteArrayInputStream(variant.body()));
          assertNotNull(image, "decodes");
          assertEquals(64, image.getWidth());
          assertEquals(64, image.getHeight());
        }
      }
    }
  }

  @ParameterizedTest(name = "variants.engine = {0}")
  @ValueSource(strings = {"java", "vips"})
  @DisplayName("an animation keeps its frames only while frames × source pixels stay within variants.maxAnimationSourcePixels (read from the header), else the variant is the first frame")
  void boundsTheAnimationAtTheSourceSize(String engine, Vertx vertx) throws Exception {
    long bound = 4L * 1024 * 1024;
    JsonObject overrides = new JsonObject().put("variants", new JsonObject().put("engine", engine)
      .put("maxAnimationSourcePixels", bound));
    try (TestServer server = TestServer.start(vertx, overrides)) {
      // At the bound (4 frames of 1024×1024) it stays animated; one frame more and it is a still.
      assertEquals(4, framesOfVariant(server, WorstCaseImages.gif(1024, 1024, 4)), "4 × 1024² = the bound");
      assertEquals(1, framesOfVariant(server, WorstCaseImages.gif(1024, 1024, 5)), "5 × 1024² > the bound");
    }
    try (TestServer server = TestServer.start(vertx, new JsonObject().put("variants", new JsonObject().put("engine", engine)))) {
      // The default (100,000,000): a 1.2 MB GIF of 100 frames of 4096×4096 (1.7 billion pixels) is within
      // every other limit (100 frames, 100 × 64² at the target size), and is rendered as its first frame.
      assertEquals(1, framesOfVariant(server, WorstCaseImages.gif(4096, 4096, 100)));
    }
  }

  /** Uploads the GIF for a new user and answers how many frames its 64 px GIF variant has. */
  private static int framesOfVariant(TestServer server, byte[] gif) throws Exception {
    long user = server.createUser("animation");
    assertEquals(201, server.put(user, "image/gif", gif).statusCode());
    HttpResponse<byte[]> variant = server.send(server.request("/users/" + user + "/avatar?size=64&format=gif"));
    assertEquals(200, variant.statusCode());
    assertEquals("public, max-age=300", variant.headers().firstValue("Cache-Control").orElse(""),
      "a rendered variant, not the original served as a fallback");
    ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
    try {
      reader.setInput(ImageIO.createImageInputStream(new ByteArrayInputStream(variant.body())));
      assertEquals(64, reader.getWidth(0));
      return reader.getNumImages(true);
    } finally {
      reader.dispose();
    }
  }
}
