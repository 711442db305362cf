package io.avatarserver.upload.image;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The parsers are push state machines fed whatever chunks the network delivers: the result must not
 * depend on where the chunks are cut. Each image is parsed whole, byte by byte and in random cuts.
 */
@DisplayName("Image parsers give the same result however the body is cut into chunks")
class ImageParserChunkingTest {

  private static final ImageLimits LIMITS = new ImageLimits(4096, 16_777_216L, true);

  private record Result(byte[] stored, int width, int height, List<String> patches) {
  }

  private static Result parse(ImageType type, byte[] image, int[] cuts) {
    ImageParser parser = ImageParser.forType(type, LIMITS);
    Buffer out = Buffer.buffer();
    int from = 0;
    for (int cut : cuts) {
      out.appendBuffer(parser.feed(Buffer.buffer().appendBytes(image, from, cut - from)));
      from = cut;
    }
    out.appendBuffer(parser.feed(Buffer.buffer().appendBytes(image, from, image.length - from)));
    byte[] stored = out.getBytes();
    List<String> patches = new ArrayList<>();
    for (ImageParser.Patch patch : parser.finish()) {
      patches.add(patch.position() + ":" + java.util.HexFormat.of().formatHex(patch.bytes()));
      System.arraycopy(patch.bytes(), 0, stored, (int) patch.position(), patch.bytes().length);
    }
    return new Result(stored, parser.width(), parser.height(), patches);
  }

  private static int[] everyByte(int length) {
    int[] cuts = new int[length - 1];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = i + 1;
    }
    return cuts;
  }

  private static int[] randomCuts(int length, long seed) {
    Random random = new Random(seed);
    List<Integer> cuts = new ArrayList<>();
    for (int at = random.nextInt(20) + 1; at < length; at += 1 + random.nextInt(random.nextBoolean() ? 16 : 9000)) {
      cuts.add(at);
    }
    return cuts.stream().mapToInt(Integer::intValue).toArray();
  }

  private static byte[] image(String name) {
    return switch (name) {
      case "jpeg-metadata" -> Images.jpegWith(Bodies.fixture("images/avatar-256.jpg"),
        new Images.Segment(0xE1, Images.exifPayload(Images.cameraTiff(true, 6))),
        new Images.Segment(0xFE, "comment".getBytes()));
      case "webp-metadata" -> Images.webp(List.of(
        new Images.Chunk("VP8X", Images.vp8x(0x0C, 200, 200)),
        new Images.Chunk("VP8 ", Images.riffChunks(Bodies.fixture("images/avatar-200.webp")).get(0).data()),
        new Images.Chunk("EXIF", Images.cameraTiff(false, 8)),
        new Images.Chunk("XMP ", "<x/>".getBytes())));
      case "gif-comment" -> Images.gifWithComment(Bodies.fixture("images/avatar-64.gif"), "hello");
      default -> Bodies.fixture(name);
    };
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "images/avatar-256.jpg, JPEG",
    "images/gps-tagged.jpg, JPEG",
    "images/large-1200.jpg, JPEG",
    "hostile/late-frame-header.jpg, JPEG",
    "jpeg-metadata, JPEG",
    "images/avatar-128.png, PNG",
    "images/avatar-200.png, PNG",
    "images/avatar-64.gif, GIF",
    "gif-comment, GIF",
    "images/avatar-200.webp, WEBP",
    "webp-metadata, WEBP",
  })
  void sameResultWhateverTheCuts(String name, ImageType type) {
    byte[] image = image(name);
    Result whole = parse(type, image, new int[0]);
    if (image.length <= 20_000) {
      assertResult(whole, parse(type, image, everyByte(image.length)));
    }
    for (long seed = 1; seed <= 5; seed++) {
      assertResult(whole, parse(type, image, randomCuts(image.length, seed)));
    }
  }

  private static void assertResult(Result expected, Result actual) {
    assertArrayEquals(expected.stored(), actual.stored());
    assertEquals(expected.width(), actual.width());
    assertEquals(expected.height(), actual.height());
    assertEquals(expected.patches(), actual.patches());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "hostile/truncated.jpg, JPEG",
    "hostile/polyglot-jpeg-html.jpg, JPEG",
    "hostile/polyglot-gif-html.gif, GIF",
    "hostile/pixel-flood-100000x100000.png, PNG",
    "hostile/pixel-flood-16384.webp, WEBP",
  })
  @DisplayName("A refusal is a refusal however the body is cut")
  void refusedWhateverTheCuts(String name, ImageType type) {
    byte[] image = image(name);
    for (int[] cuts : List.of(new int[0], everyByte(image.length), randomCuts(image.length, 3))) {
      assertThrows(AvatarException.class, () -> parse(type, image, cuts));
    }
  }
}
