package io.avatarserver.upload;

import io.avatarserver.support.Bodies;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Warm-up: synthetic uploads through the pipeline before the listener opens")
class WarmupTest {

  @Test
  @DisplayName("Its body is a decodable 1 MiB PNG that the pipeline stores whole, and the requested bytes pass through it")
  void pushesValidUploads() throws Exception {
    byte[] png = Warmup.png(1 << 20);
    assertEquals(1 << 20, png.length);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertNotNull(image, "not a decodable PNG");
    assertEquals(Bodies.png(1 << 20, 1).length, png.length);
    long pushed = Warmup.run(3L << 20);
    assertTrue(pushed >= 3L << 20, "pushed " + pushed);
  }
}
