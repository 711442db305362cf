package io.avatarserver.upload.image;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.avatarserver.upload.image.Parsing.bytes;
import static io.avatarserver.upload.image.Parsing.parse;
import static io.avatarserver.upload.image.Parsing.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("GifParser: screen and every frame checked, comments stripped, the trailer ends the image")
class GifParserTest {

  private static final byte[] AVATAR = Bodies.fixture("images/avatar-64.gif");

  /** A GIF89a of a 10×10 screen without colour table, {@code blocks}, and the trailer. */
  private static byte[] gif(byte[]... blocks) {
    return Images.concat(Images.concat("GIF89a".getBytes()), bytes(10, 0, 10, 0, 0, 0, 0), Images.concat(blocks),
      bytes(0x3B));
  }

  /** An image descriptor of {@code width × height}, no local colour table, and one tiny data sub-block. */
  private static byte[] frame(int width, int height) {
    return bytes(0x2C, 0, 0, 0, 0, width & 0xff, width >> 8, height & 0xff, height >> 8, 0, 2, 1, 0x44, 0);
  }

  @Test
  @DisplayName("A GIF without comments is stored unchanged, with the screen's dimensions")
  void plain() {
    Parsing.Parsed parsed = parse(ImageType.GIF, AVATAR);
    assertArrayEquals(AVATAR, parsed.stored());
    assertEquals(64, parsed.width());
    assertEquals(64, parsed.height());
  }

  @Test
  @DisplayName("Comment extensions are dropped, byte by byte too; other extensions are kept")
  void comments() {
    byte[] commented = Images.gifWithComment(AVATAR, "a rather long comment ".repeat(10));
    assertArrayEquals(AVATAR, parse(ImageType.GIF, commented).stored());
    assertArrayEquals(AVATAR, parse(ImageType.GIF, Parsing.STRIP, commented, 1).stored());
    assertArrayEquals(commented, parse(ImageType.GIF, Parsing.KEEP, commented, 1000).stored());

    byte[] application = gif(bytes(0x21, 0xFF, 11), "NETSCAPE2.0".getBytes(), bytes(3, 1, 0, 0, 0), frame(10, 10));
    Parsing.Parsed parsed = parse(ImageType.GIF, application);
    assertArrayEquals(application, parsed.stored());
    assertEquals(10, parsed.width());
  }

  @Test
  @DisplayName("A screen, or a single frame on a small screen, beyond the limits is refused")
  void dimensions() {
    assertEquals("The image is 65535×8191; the largest side allowed is 4096",
      refused(ImageType.GIF, Bodies.fixture("hostile/pixel-flood-65535x8191.gif")));
    assertEquals("The image is 5000×10; the largest side allowed is 4096", refused(ImageType.GIF, gif(frame(5000, 10))));
    assertEquals("The image has a zero dimension", refused(ImageType.GIF, gif(frame(0, 10))));
  }

  @Test
  @DisplayName("A corrupt block, data after the trailer or a missing trailer is refused")
  void broken() {
    assertEquals("A GIF block is corrupt", refused(ImageType.GIF, gif(bytes(0x99))));
    assertEquals("Data follows the end of the image; polyglot files are refused",
      refused(ImageType.GIF, Bodies.fixture("hostile/polyglot-gif-html.gif")));
    assertArrayEquals(AVATAR, parse(ImageType.GIF, Images.concat(AVATAR, new byte[8])).stored());
    assertEquals("The image is truncated", refused(ImageType.GIF, Arrays.copyOf(AVATAR, AVATAR.length - 1)));
  }
}
