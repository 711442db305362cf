package io.avatarserver.variant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.AlphaComposite;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.util.Random;
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

  /** 300×200 pixels of every alpha, including fully transparent and opaque ones, premultiplied as Java2D does. */
  private static BufferedImage translucent() {
    BufferedImage straight = new BufferedImage(300, 200, BufferedImage.TYPE_INT_ARGB);
    Random random = new Random(19);
    for (int y = 0; y < 200; y++) {
      for (int x = 0; x < 300; x++) {
        straight.setRGB(x, y, (x % 256) << 24 | random.nextInt(1 << 24));
      }
    }
    return copyAs(straight, BufferedImage.TYPE_INT_ARGB_PRE);
  }

  private static BufferedImage copyAs(BufferedImage src, int type) {
    BufferedImage dst = new BufferedImage(src.getWidth(), src.getHeight(), type);
    Graphics2D g = dst.createGraphics();
    g.setComposite(AlphaComposite.Src);
    g.drawImage(src, 0, 0, null);
    g.dispose();
    return dst;
  }

  private static void assertClose(BufferedImage expected, BufferedImage actual, int tolerance) {
    assertEquals(expected.getWidth(), actual.getWidth());
    for (int y = 0; y < expected.getHeight(); y++) {
      for (int x = 0; x < expected.getWidth(); x++) {
        int e = expected.getRGB(x, y);
        int a = actual.getRGB(x, y);
        for (int shift = 0; shift < 32; shift += 8) {
          int d = Math.abs((e >> shift & 0xff) - (a >> shift & 0xff));
          assertTrue(d <= tolerance, x + "," + y + ": " + Integer.toHexString(e) + " vs " + Integer.toHexString(a));
        }
      }
    }
  }

  @Test
  void theEncodersRasterIsTheSquareConvertedWhereItLiesWhenConsumed() {
    BufferedImage square = translucent();
    int[] pixels = Pixels.data(square);
    BufferedImage expectedStraight = copyAs(square, BufferedImage.TYPE_INT_ARGB);
    BufferedImage expectedOnWhite = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = expectedOnWhite.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, 300, 200);
    g.drawImage(square, 0, 0, null);
    g.dispose();

    int[] before = pixels.clone();
    BufferedImage copied = Pixels.forEncoder(square, true, false);
    assertArrayEquals(before, pixels, "not consumed: the square is left as it was");
    assertNotSame(pixels, Pixels.data(copied));
    assertClose(expectedStraight, copied, 1);
    assertClose(expectedOnWhite, Pixels.forEncoder(square, false, false), 1);

    BufferedImage straight = Pixels.forEncoder(square, true, true);
    assertSame(pixels, Pixels.data(straight), "consumed: no second raster");
    assertEquals(BufferedImage.TYPE_INT_ARGB, straight.getType());
    assertSame(straight.getRaster(), straight.getData(), "an encoder asking for the whole raster gets it, not a copy");
    assertClose(expectedStraight, straight, 1);

    BufferedImage other = translucent();
    BufferedImage onWhite = Pixels.forEncoder(other, false, true);
    assertSame(Pixels.data(other), Pixels.data(onWhite));
    assertEquals(BufferedImage.TYPE_INT_RGB, onWhite.getType());
    assertClose(expectedOnWhite, onWhite, 1);
  }

  @Test
  void aDecodedRasterBecomesTheSquareWhereItLiesOrAStripAtATime() {
    BufferedImage expected = translucent();
    BufferedImage argb = copyAs(expected, BufferedImage.TYPE_INT_ARGB);
    int[] pixels = Pixels.data(argb);
    BufferedImage own = Pixels.ownArgb(argb);
    assertSame(pixels, Pixels.data(own), "a packed ARGB raster is premultiplied where it lies");
    assertEquals(BufferedImage.TYPE_INT_ARGB_PRE, own.getType());
    assertClose(expected, own, 1);

    // An indexed raster of 200 rows (four strips): drawn a strip at a time, the same as drawn at once.
    byte[] palette = new byte[256];
    for (int i = 0; i < 256; i++) {
      palette[i] = (byte) i;
    }
    BufferedImage indexed = new BufferedImage(300, 200, BufferedImage.TYPE_BYTE_INDEXED,
      new IndexColorModel(8, 256, palette, palette.clone(), palette.clone(), palette.clone()));
    for (int y = 0; y < 200; y++) {
      for (int x = 0; x < 300; x++) {
        indexed.getRaster().setSample(x, y, 0, (x * 7 + y * 13) & 0xff);
      }
    }
    assertClose(copyAs(indexed, BufferedImage.TYPE_INT_ARGB_PRE), Pixels.ownArgb(indexed), 0);

    // Drawn scaled into a rectangle of a canvas (a GIF frame's place), over what is there.
    BufferedImage canvas = translucent();
    BufferedImage expectedCanvas = copyAs(canvas, BufferedImage.TYPE_INT_ARGB_PRE);
    Graphics2D g = expectedCanvas.createGraphics();
    g.drawImage(indexed, 10, 20, 150, 100, null);
    g.dispose();
    Pixels.draw(canvas, indexed, new Rectangle(10, 20, 150, 100), AlphaComposite.SrcOver);
    assertClose(expectedCanvas, canvas, 1);
  }

  @Test
  void encodedBytesComeOutOfTheirBlocksWhole() {
    Random random = new Random(7);
    for (int length : new int[] {0, 1, 8191, 8192, 8193, 300_000, 1_500_000}) {
      byte[] data = new byte[length];
      random.nextBytes(data);
      Encoders.Blocks blocks = new Encoders.Blocks();
      ByteArrayOutputStream expected = new ByteArrayOutputStream();
      for (int at = 0; at < length; ) {
        int n = Math.min(length - at, random.nextInt(70_000) + 1);
        if (n == 1) {
          blocks.write(data[at]);
        } else {
          blocks.write(data, at, n);
        }
        expected.write(data, at, n);
        at += n;
      }
      assertArrayEquals(expected.toByteArray(), blocks.toByteArray(), length + " bytes");
    }
  }

  /** A 1024² premultiplied square: smooth colours under an alpha that runs from transparent to opaque. */
  private static BufferedImage gradient1024() {
    BufferedImage img = new BufferedImage(1024, 1024, BufferedImage.TYPE_INT_ARGB_PRE);
    int[] px = Pixels.data(img);
    for (int y = 0; y < 1024; y++) {
      for (int x = 0; x < 1024; x++) {
        int a = (x + y) * 255 / 2046;
        int r = x / 4 * a / 255;
        int g = y / 4 * a / 255;
        int b = (255 - x / 4) * a / 255;
        px[y * 1024 + x] = a << 24 | r << 16 | g << 8 | b;
      }
    }
    return img;
  }

  private static byte[] imageIoWebp(BufferedImage straight) throws Exception {
    javax.imageio.ImageWriter w = javax.imageio.ImageIO.getImageWritersByMIMEType("image/webp").next();
    try {
      com.luciad.imageio.webp.WebPWriteParam p = (com.luciad.imageio.webp.WebPWriteParam) w.getDefaultWriteParam();
      p.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionType("Lossy");
      p.setCompressionQuality(Encoders.WEBP_QUALITY);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (javax.imageio.stream.ImageOutputStream ios = javax.imageio.ImageIO.createImageOutputStream(out)) {
        w.setOutput(ios);
        w.write(null, new javax.imageio.IIOImage(straight, null, null), p);
      }
      return out.toByteArray();
    } finally {
      w.dispose();
    }
  }

  private static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
      .getCurrentThreadAllocatedBytes();
  }

  /**
   * A WebP (a still, or an animation's frame) is encoded from one byte copy of the premultiplied square
   * (4 MiB at 1024 px), the same bytes webp-imageio's writer gives libwebp: through that writer the
   * square was first converted into a straight copy (4 MiB) and then copied again (4 MiB), which two
   * 1024 px animated renders beside 1,000 uploads could not afford in a 64 MiB heap (the memory proof
   * with 2047² originals ran out of heap in such a frame's encode). An animation's frames share one.
   */
  @Test
  void aWebpIsEncodedFromOneByteCopyOfTheSquare() throws Exception {
    BufferedImage square = gradient1024();
    int[] before = Pixels.data(square).clone();
    byte[] expectedRgba = imageIoWebp(Pixels.forEncoder(square, true, false));
    byte[] expectedRgb = imageIoWebp(Pixels.forEncoder(square, false, false));
    Encoders.webp(square, true); // loads what the first encode loads

    long start = allocatedByThisThread();
    byte[] rgba = Encoders.webp(square, true);
    long rgbaAllocated = allocatedByThisThread() - start;
    start = allocatedByThisThread();
    byte[] rgb = Encoders.webp(square, false);
    long rgbAllocated = allocatedByThisThread() - start;
    Encoders.Animation animation = Encoders.animation(VariantFormat.WEBP, 1024, 0);
    start = allocatedByThisThread();
    animation.add(square, 100, false);
    long frameAllocated = allocatedByThisThread() - start;
    start = allocatedByThisThread();
    animation.add(square, 100, false);
    long nextFrameAllocated = allocatedByThisThread() - start;
    animation.close();

    assertArrayEquals(expectedRgba, rgba, "with alpha: what the ImageIO writer makes");
    assertArrayEquals(expectedRgb, rgb, "over white: what the ImageIO writer makes");
    assertArrayEquals(before, Pixels.data(square), "the square is left as it was");
    int mib = 1 << 20;
    long slack = mib / 2 + rgba.length * 3L; // the encoded bytes, and an animation's chunks around them
    assertTrue(rgbaAllocated < 4L * mib + slack, "RGBA: " + rgbaAllocated + " bytes allocated");
    assertTrue(rgbAllocated < 3L * mib + slack, "RGB: " + rgbAllocated + " bytes allocated");
    assertTrue(frameAllocated < 4L * mib + slack, "a frame: " + frameAllocated + " bytes allocated");
    assertTrue(nextFrameAllocated < slack, "the next frame reuses the pixel array: " + nextFrameAllocated + " bytes allocated");
  }
}
