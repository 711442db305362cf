package io.avatarserver.support;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.zip.CRC32;

/** Request bodies: real fixture images, and valid PNG files of any exact size. */
public final class Bodies {

  private static final byte[] SMALL_PNG = smallPng();

  private Bodies() {
  }

  /** A fixture file from {@code src/test/resources/fixtures/}, e.g. {@code images/avatar-256.jpg}. */
  public static byte[] fixture(String path) {
    try (InputStream in = Bodies.class.getResourceAsStream("/fixtures/" + path)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A decodable 2×2 PNG of exactly {@code size} bytes: a private ancillary chunk ({@code prVt},
   * which decoders skip) filled with seeded random bytes makes up the size. Different seeds give
   * different bytes.
   */
  public static byte[] png(int size, long seed) {
    int iendLength = 12;
    int head = SMALL_PNG.length - iendLength;
    int padding = size - SMALL_PNG.length - 12;
    if (padding < 0) {
      throw new IllegalArgumentException("a valid PNG here has at least " + (SMALL_PNG.length + 12) + " bytes");
    }
    byte[] data = new byte[padding];
    new Random(seed).nextBytes(data);
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(SMALL_PNG, 0, head);
    out.putInt(padding);
    byte[] type = "prVt".getBytes(StandardCharsets.US_ASCII);
    out.put(type).put(data);
    CRC32 crc = new CRC32();
    crc.update(type);
    crc.update(data);
    out.putInt((int) crc.getValue());
    out.put(SMALL_PNG, head, iendLength);
    return out.array();
  }

  /** The first {@code size} bytes of a PNG: a valid signature, too short to be an image. */
  public static byte[] pngPrefix(int size) {
    return Arrays.copyOf(png(4096, 1), size);
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] smallPng() {
    BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
    image.setRGB(0, 0, 0xff0000);
    image.setRGB(1, 1, 0x00ff00);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
