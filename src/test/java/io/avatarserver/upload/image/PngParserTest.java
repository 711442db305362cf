package io.avatarserver.upload.image;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.avatarserver.upload.image.Parsing.parse;
import static io.avatarserver.upload.image.Parsing.refused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Only critical chunks, text chunks and eXIf are asserted on: which other ancillary chunks are kept
 * is the PNG chunk policy's business, not the streaming's.
 */
@DisplayName("PngParser: IHDR first, text and eXIf chunks stripped, the stream ends with IEND")
class PngParserTest {

  /** The 128×128 fixture's critical chunks only: IHDR, its IDAT chunks, IEND. */
  private static final List<Images.Chunk> CRITICAL = Images.pngChunks(Bodies.fixture("images/avatar-128.png")).stream()
    .filter(c -> Character.isUpperCase(c.type().charAt(0))).toList();
  private static final byte[] PLAIN = Images.png(CRITICAL);

  private static byte[] withAfterIhdr(Images.Chunk... extra) {
    List<Images.Chunk> chunks = new ArrayList<>(CRITICAL);
    chunks.addAll(1, List.of(extra));
    return Images.png(chunks);
  }

  private static Images.Chunk text(String type) {
    return new Images.Chunk(type, "Author\0someone".getBytes(StandardCharsets.ISO_8859_1));
  }

  private static List<String> types(byte[] png) {
    return Images.pngChunks(png).stream().map(Images.Chunk::type).toList();
  }

  @Test
  @DisplayName("A PNG of critical chunks is stored unchanged, with its dimensions")
  void plain() {
    Parsing.Parsed parsed = parse(ImageType.PNG, PLAIN);
    assertArrayEquals(PLAIN, parsed.stored());
    assertEquals(128, parsed.width());
    assertEquals(128, parsed.height());
    assertEquals(0, parsed.patches());
  }

  @Test
  @DisplayName("tEXt, zTXt and iTXt are dropped, however the bytes are cut")
  void text() {
    byte[] image = withAfterIhdr(text("tEXt"), text("zTXt"), text("iTXt"));
    for (int chunk : new int[] {1, 7, 1000, image.length}) {
      assertArrayEquals(PLAIN, parse(ImageType.PNG, Parsing.STRIP, image, chunk).stored(), "chunks of " + chunk);
    }
  }

  @Test
  @DisplayName("eXIf is dropped; an orientation other than 1 comes back as a minimal eXIf chunk with a valid CRC")
  void exif() {
    byte[] rotated = parse(ImageType.PNG, withAfterIhdr(new Images.Chunk("eXIf", Images.cameraTiff(false, 6)))).stored();
    assertEquals(List.of("IHDR", "eXIf"), types(rotated).subList(0, 2));
    Images.Chunk exif = Images.pngChunks(rotated).get(1);
    assertEquals(Map.of(Images.ORIENTATION, 6L), Images.tiffTags(exif.data(), 0));
    assertArrayEquals(Images.png(Images.pngChunks(rotated)), rotated, "CRCs as a writer computes them");

    byte[] upright = parse(ImageType.PNG, withAfterIhdr(new Images.Chunk("eXIf", Images.cameraTiff(true, 1)))).stored();
    assertArrayEquals(PLAIN, upright);

    byte[] twice = parse(ImageType.PNG, withAfterIhdr(new Images.Chunk("eXIf", Images.cameraTiff(true, 8)),
      new Images.Chunk("eXIf", Images.cameraTiff(true, 6)))).stored();
    assertEquals(1, types(twice).stream().filter("eXIf"::equals).count(), "one orientation written back");
  }

  @Test
  @DisplayName("With stripMetadata off, text and eXIf chunks are kept")
  void keep() {
    byte[] image = withAfterIhdr(text("tEXt"), new Images.Chunk("eXIf", Images.cameraTiff(false, 6)));
    assertArrayEquals(image, parse(ImageType.PNG, Parsing.KEEP, image, 1000).stored());
  }

  @Test
  @DisplayName("IHDR must come first, with 13 bytes")
  void ihdrFirst() {
    List<Images.Chunk> late = new ArrayList<>(CRITICAL);
    late.add(0, text("tEXt"));
    assertEquals("A PNG must start with its IHDR header", refused(ImageType.PNG, Images.png(late)));
    List<Images.Chunk> longHeader = new ArrayList<>(CRITICAL);
    longHeader.set(0, new Images.Chunk("IHDR", Arrays.copyOf(CRITICAL.get(0).data(), 14)));
    assertEquals("A PNG must start with its IHDR header", refused(ImageType.PNG, Images.png(longHeader)));
  }

  @Test
  @DisplayName("Pixel floods are refused from IHDR")
  void dimensions() {
    assertEquals("The image is 100000×100000; the largest side allowed is 4096",
      refused(ImageType.PNG, Bodies.fixture("hostile/pixel-flood-100000x100000.png")));
    assertEquals("The image has 16384 pixels; at most 16383 are allowed",
      refused(ImageType.PNG, new ImageLimits(4096, 16_383, true), PLAIN));
  }

  @Test
  @DisplayName("A chunk length above 2^31-1 is refused")
  void chunkLength() {
    byte[] image = Images.concat(Arrays.copyOf(PLAIN, 33),
      ByteBuffer.allocate(8).putInt(0x80000000).put("IDAT".getBytes(StandardCharsets.US_ASCII)).array());
    assertEquals("A PNG chunk length is out of range", refused(ImageType.PNG, image));
  }

  @Test
  @DisplayName("After IEND: zero padding is accepted, anything else refused; without IEND the image is truncated")
  void end() {
    assertArrayEquals(PLAIN, parse(ImageType.PNG, Images.concat(PLAIN, new byte[64])).stored());
    assertEquals("Data follows the end of the image; polyglot files are refused",
      refused(ImageType.PNG, Images.concat(PLAIN, "<?php".getBytes(StandardCharsets.US_ASCII))));
    assertEquals("The image is truncated", refused(ImageType.PNG, Arrays.copyOf(PLAIN, PLAIN.length - 12)));
    assertEquals("The image is truncated", refused(ImageType.PNG, Bodies.fixture("hostile/fifty-bytes.png")));
  }
}
