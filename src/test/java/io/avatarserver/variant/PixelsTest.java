package io.avatarserver.variant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class PixelsTest {

  /** A 3×3 square whose nine pixels are all different. */
  private static BufferedImage square() {
    BufferedImage img = new BufferedImage(3, 3, BufferedImage.TYPE_INT_ARGB_PRE);
    for (int i = 0; i < 9; i++) {
      Pixels.data(img)[i] = 0xff000000 | i;
    }
    return img;
  }

  private static BufferedImage mirror(BufferedImage src) {
    BufferedImage dst = new BufferedImage(3, 3, src.getType());
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 3; x++) {
        dst.setRGB(2 - x, y, src.getRGB(x, y));
      }
    }
    return dst;
  }

  private static BufferedImage clockwise(BufferedImage src, int quarters) {
    BufferedImage cur = src;
    for (int q = 0; q < quarters; q++) {
      BufferedImage dst = new BufferedImage(3, 3, src.getType());
      for (int y = 0; y < 3; y++) {
        for (int x = 0; x < 3; x++) {
          dst.setRGB(2 - y, x, cur.getRGB(x, y)); // (x, y) goes to (n-1-y, x) turning clockwise
        }
      }
      cur = dst;
    }
    return cur;
  }

  @Test
  void orientationsFollowTheExifDefinitions() {
    BufferedImage s = square();
    // CIPA DC-008 as "what to do to display": 2 mirror, 3 turn 180°, 4 mirror vertically (= mirror + 180°),
    // 5 mirror + turn 270° clockwise, 6 turn 90° clockwise, 7 mirror + turn 90° clockwise, 8 turn 270° clockwise.
    BufferedImage[] expected = {null, s, mirror(s), clockwise(s, 2), clockwise(mirror(s), 2), clockwise(mirror(s), 3),
      clockwise(s, 1), clockwise(mirror(s), 1), clockwise(s, 3)};
    for (int o = 1; o <= 8; o++) {
      assertArrayEquals(Pixels.data(expected[o]), Pixels.data(Pixels.orient(square(), o)), "orientation " + o);
    }
  }

  @Test
  void theHalvingChainGivesExactSizesAndAveragesPixels() {
    BufferedImage img = new BufferedImage(400, 400, BufferedImage.TYPE_INT_ARGB_PRE);
    int[] d = Pixels.data(img);
    for (int i = 0; i < d.length; i++) {
      int x = i % 400;
      int y = i / 400;
      d[i] = (x + y) % 2 == 0 ? 0xffffffff : 0xff000000; // a checkerboard averages to mid grey
    }
    Pixels.Pyramid pyramid = new Pixels.Pyramid(img);
    for (int size : new int[] {400, 200, 128, 64, 37, 1}) {
      BufferedImage out = pyramid.get(size);
      assertEquals(size, out.getWidth());
      assertEquals(size, out.getHeight());
      if (size < 400) {
        int grey = out.getRGB(size / 2, size / 2) & 0xff;
        assertTrue(Math.abs(grey - 128) <= 3, size + ": " + grey);
      }
    }
  }
}
