package io.avatarserver.upload.image;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;
import io.vertx.core.buffer.Buffer;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Runs a parser over a whole image in chunks, as the pipeline does, for the parser tests. */
final class Parsing {

  static final ImageLimits STRIP = new ImageLimits(4096, 16_777_216L, true);
  static final ImageLimits KEEP = new ImageLimits(4096, 16_777_216L, false);

  /** What a parser made of an image: the stored bytes with its patches applied, and the dimensions. */
  record Parsed(byte[] stored, int width, int height, int patches) {
  }

  private Parsing() {
  }

  static Parsed parse(ImageType type, ImageLimits limits, byte[] image, int chunk) {
    ImageParser parser = ImageParser.forType(type, limits);
    Buffer out = Buffer.buffer();
    for (int at = 0; at < image.length; at += chunk) {
      out.appendBuffer(parser.feed(Buffer.buffer(Arrays.copyOfRange(image, at, Math.min(image.length, at + chunk)))));
    }
    byte[] stored = out.getBytes();
    var patches = parser.finish();
    for (ImageParser.Patch patch : patches) {
      System.arraycopy(patch.bytes(), 0, stored, (int) patch.position(), patch.bytes().length);
    }
    return new Parsed(stored, parser.width(), parser.height(), patches.size());
  }

  static Parsed parse(ImageType type, byte[] image) {
    return parse(type, STRIP, image, 1000);
  }

  /** Asserts that parsing {@code image} (in chunks of 1000 bytes) is refused as INVALID_IMAGE; returns the detail. */
  static String refused(ImageType type, ImageLimits limits, byte[] image) {
    AvatarException refused = assertThrows(AvatarException.class, () -> parse(type, limits, image, 1000));
    assertEquals(Failure.INVALID_IMAGE, refused.failure());
    return refused.detail();
  }

  static String refused(ImageType type, byte[] image) {
    return refused(type, STRIP, image);
  }

  static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }
}
