package io.avatarserver.upload.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * Decodable PNG files of any exact size, made of data the server stores as it is: 8-bit greyscale
 * rows of seeded random pixels in stored (uncompressed) deflate blocks; the exact size comes from
 * empty stored blocks (5 bytes each) and from splitting the image data over up to five IDAT chunks
 * (12 bytes each). For the warm-up before the listener opens, the tests and the load tools.
 */
public final class SyntheticPng {

  private SyntheticPng() {
  }

  /** A PNG of exactly {@code size} bytes (at least 80); different seeds give different bytes. */
  public static byte[] png(int size, long seed) {
    int width = Math.max(1, Math.min(4096, size / 64));
    int fixed = 8 + 25 + 12 + 12 + 2 + 4; // signature, IHDR, IEND, one IDAT's frame, zlib header and Adler-32
    for (int height = Math.min(4096, (size - fixed) / (width + 1)); height >= 1; height--) {
      long raw = (long) height * (width + 1);
      long rest = size - fixed - raw - 5 * ((raw + 65_534) / 65_535);
      for (int splits = 0; splits <= 4 && rest >= 0; splits++) {
        long padding = rest - 12L * splits;
        if (padding >= 0 && padding % 5 == 0) {
          return grey(width, height, (int) (padding / 5), splits + 1, seed);
        }
      }
    }
    throw new IllegalArgumentException("no PNG of exactly " + size + " bytes here");
  }

  private static byte[] grey(int width, int height, int emptyBlocks, int idats, long seed) {
    Random random = new Random(seed);
    byte[] raw = new byte[height * (width + 1)];
    random.nextBytes(raw);
    for (int row = 0; row < height; row++) {
      raw[row * (width + 1)] = 0; // filter: none
    }
    ByteArrayOutputStream zlib = new ByteArrayOutputStream();
    zlib.write(0x78);
    zlib.write(0x01);
    for (int i = 0; i < emptyBlocks; i++) {
      zlib.writeBytes(new byte[] {0, 0, 0, (byte) 0xFF, (byte) 0xFF}); // a non-final stored block of 0 bytes
    }
    for (int at = 0; at < raw.length; at += 65_535) {
      int n = Math.min(65_535, raw.length - at);
      zlib.write(at + n == raw.length ? 1 : 0);
      zlib.writeBytes(new byte[] {(byte) n, (byte) (n >> 8), (byte) ~n, (byte) (~n >> 8)});
      zlib.write(raw, at, n);
    }
    java.util.zip.Adler32 adler = new java.util.zip.Adler32();
    adler.update(raw);
    zlib.writeBytes(ByteBuffer.allocate(4).putInt((int) adler.getValue()).array());
    byte[] data = zlib.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).array());
    int piece = data.length / idats;
    for (int i = 0; i < idats; i++) {
      int from = i * piece;
      chunk(out, "IDAT", Arrays.copyOfRange(data, from, i == idats - 1 ? data.length : from + piece));
    }
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] name = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(name);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(name);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
