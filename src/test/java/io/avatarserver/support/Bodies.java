package io.avatarserver.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/** Request bodies: real fixture images, and valid PNG files of any exact size. */
public final class Bodies {

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
   * A decodable PNG of exactly {@code size} bytes (at least 80): 8-bit greyscale rows of seeded
   * random pixels, stored uncompressed (deflate stored blocks), so different seeds give different
   * bytes. The exact size comes from empty stored blocks (5 bytes each) and from splitting the image
   * data over up to five IDAT chunks (12 bytes each). Only chunks the server stores are used: what is
   * sent is what is stored, byte for byte.
   */
  public static byte[] png(int size, long seed) {
    return io.avatarserver.upload.image.SyntheticPng.png(size, seed);
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

}
