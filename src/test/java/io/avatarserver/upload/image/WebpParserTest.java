package io.avatarserver.upload.image;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.avatarserver.upload.image.Parsing.bytes;
import static io.avatarserver.upload.image.Parsing.parse;
import static io.avatarserver.upload.image.Parsing.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("WebpParser: chunks within the RIFF size, EXIF and XMP stripped with the header patched at the end")
class WebpParserTest {

  private static final byte[] AVATAR = Bodies.fixture("images/avatar-200.webp");
  private static final Images.Chunk VP8 = Images.riffChunks(AVATAR).get(0);
  private static final Images.Chunk XMP = new Images.Chunk("XMP ", "<x:xmpmeta>where I live</x:xmpmeta>".getBytes());

  private static Images.Chunk vp8x(int flags) {
    return new Images.Chunk("VP8X", Images.vp8x(flags, 200, 200));
  }

  private static Images.Chunk exif(int orientation) {
    return new Images.Chunk("EXIF", Images.cameraTiff(false, orientation));
  }

  private static List<String> types(byte[] webp) {
    return Images.riffChunks(webp).stream().map(Images.Chunk::type).toList();
  }

  private static int riffSize(byte[] webp) {
    return ByteBuffer.wrap(webp).order(ByteOrder.LITTLE_ENDIAN).getInt(4);
  }

  private static byte[] withRiffSize(byte[] webp, int size) {
    byte[] out = webp.clone();
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(4, size);
    return out;
  }

  @Test
  @DisplayName("A simple (VP8) WebP is stored unchanged, with its dimensions and no patch")
  void plain() {
    Parsing.Parsed parsed = parse(ImageType.WEBP, AVATAR);
    assertArrayEquals(AVATAR, parsed.stored());
    assertEquals(200, parsed.width());
    assertEquals(200, parsed.height());
    assertEquals(0, parsed.patches());
  }

  @Test
  @DisplayName("EXIF and XMP are dropped; an orientation comes back as a minimal EXIF; RIFF size and VP8X flags are patched")
  void metadata() {
    byte[] image = Images.webp(List.of(vp8x(0x0C), VP8, exif(8), XMP));
    for (int chunk : new int[] {1, 1000, image.length}) {
      Parsing.Parsed parsed = parse(ImageType.WEBP, Parsing.STRIP, image, chunk);
      byte[] stored = parsed.stored();
      assertEquals(List.of("VP8X", "VP8 ", "EXIF"), types(stored));
      assertEquals(stored.length - 8, riffSize(stored));
      assertEquals(0x08, Images.riffChunks(stored).get(0).data()[0], "EXIF flag only");
      assertEquals(Map.of(Images.ORIENTATION, 8L), Images.tiffTags(Images.riffChunks(stored).get(2).data(), 0));
      assertArrayEquals(VP8.data(), Images.riffChunks(stored).get(1).data());
      assertEquals(2, parsed.patches());
    }
  }

  @Test
  @DisplayName("An EXIF chunk with an \"Exif\\0\\0\" prefix has its orientation read too")
  void exifPrefix() {
    byte[] image = Images.webp(List.of(vp8x(0x08), VP8,
      new Images.Chunk("EXIF", Images.exifPayload(Images.cameraTiff(true, 6)))));
    byte[] stored = parse(ImageType.WEBP, image).stored();
    assertEquals(Map.of(Images.ORIENTATION, 6L), Images.tiffTags(Images.riffChunks(stored).get(2).data(), 0));
  }

  @Test
  @DisplayName("Without an orientation to keep, the result is the image without its metadata and with clear flags")
  void uprightOrSimple() {
    assertArrayEquals(Images.webp(List.of(vp8x(0), VP8)),
      parse(ImageType.WEBP, Images.webp(List.of(vp8x(0x0C), VP8, exif(1), XMP))).stored());
    // The simple format may not carry EXIF: dropped, the orientation not written back.
    assertArrayEquals(AVATAR, parse(ImageType.WEBP, Images.webp(List.of(VP8, exif(6)))).stored());
  }

  @Test
  @DisplayName("With stripMetadata off everything is kept and nothing patched")
  void keep() {
    byte[] image = Images.webp(List.of(vp8x(0x0C), VP8, exif(8), XMP));
    Parsing.Parsed parsed = parse(ImageType.WEBP, Parsing.KEEP, image, 1000);
    assertArrayEquals(image, parsed.stored());
    assertEquals(0, parsed.patches());
  }

  @Test
  @DisplayName("Lossless (VP8L) dimensions; unknown and odd-sized chunks are kept with their padding")
  void lossless() {
    int bits = (300 - 1) | (150 - 1) << 14;
    byte[] vp8l = Images.concat(bytes(0x2F), ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bits).array(),
      new byte[40]);
    byte[] image = Images.webp(List.of(new Images.Chunk("VP8L", vp8l), new Images.Chunk("ABCD", bytes(1, 2, 3))));
    Parsing.Parsed parsed = parse(ImageType.WEBP, image);
    assertArrayEquals(image, parsed.stored());
    assertEquals(300, parsed.width());
    assertEquals(150, parsed.height());
  }

  @Test
  @DisplayName("Pixel floods are refused: the canvas, an animation frame")
  void dimensions() {
    assertTrue(refused(ImageType.WEBP, Bodies.fixture("hostile/pixel-flood-16384.webp"))
      .endsWith("; the largest side allowed is 4096"));
    byte[] frame = bytes(0, 0, 0, 0, 0, 0, (5000 - 1) & 0xff, (5000 - 1) >> 8, 0, 99, 0, 0, 100, 0, 0, 0);
    assertEquals("The image is 5000×100; the largest side allowed is 4096", refused(ImageType.WEBP,
      Images.webp(List.of(new Images.Chunk("VP8X", Images.vp8x(0x02, 100, 100)), new Images.Chunk("ANMF", frame)))));
  }

  @Test
  @DisplayName("An inconsistent RIFF size or chunk, or a corrupt header, is refused with what is wrong")
  void broken() {
    assertEquals("The WebP RIFF size is inconsistent", refused(ImageType.WEBP, withRiffSize(AVATAR, riffSize(AVATAR) + 1)));
    assertEquals("The WebP RIFF size is inconsistent", refused(ImageType.WEBP, withRiffSize(AVATAR, 10)));
    assertEquals("The WebP RIFF size is inconsistent",
      refused(ImageType.WEBP, withRiffSize(Images.concat(AVATAR, new byte[4]), riffSize(AVATAR) + 4)));
    byte[] runsPast = AVATAR.clone();
    ByteBuffer.wrap(runsPast).order(ByteOrder.LITTLE_ENDIAN).putInt(16, VP8.data().length + 100);
    assertEquals("A WebP chunk runs past the RIFF size", refused(ImageType.WEBP, runsPast));

    byte[] badVp8 = VP8.data().clone();
    badVp8[3] = 0;
    assertEquals("The WebP VP8 frame header is corrupt",
      refused(ImageType.WEBP, Images.webp(List.of(new Images.Chunk("VP8 ", badVp8)))));
    assertEquals("The WebP VP8L header is corrupt",
      refused(ImageType.WEBP, Images.webp(List.of(new Images.Chunk("VP8L", bytes(0x2E, 0, 0, 0, 0, 0))))));
    assertEquals("The WebP VP8X header is too short",
      refused(ImageType.WEBP, Images.webp(List.of(new Images.Chunk("VP8X", new byte[8]), VP8))));
    assertEquals("A WebP animation frame header is too short", refused(ImageType.WEBP,
      Images.webp(List.of(new Images.Chunk("VP8X", Images.vp8x(0x02, 100, 100)), new Images.Chunk("ANMF", new byte[10])))));
  }

  @Test
  @DisplayName("After the RIFF size: zero padding is accepted, anything else refused; a short file is truncated")
  void end() {
    assertArrayEquals(AVATAR, parse(ImageType.WEBP, Images.concat(AVATAR, new byte[16])).stored());
    assertEquals("Data follows the end of the image; polyglot files are refused",
      refused(ImageType.WEBP, Images.concat(AVATAR, "<html>".getBytes(StandardCharsets.US_ASCII))));
    assertEquals("The image is truncated", refused(ImageType.WEBP, Arrays.copyOf(AVATAR, AVATAR.length - 10)));
  }
}
