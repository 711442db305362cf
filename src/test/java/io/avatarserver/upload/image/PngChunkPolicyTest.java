package io.avatarserver.upload.image;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.Images.Chunk;
import io.avatarserver.upload.image.ImageType;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@DisplayName("PNG parser: what is stored, what is dropped, what is refused")
class PngChunkPolicyTest {

  private static final ImageLimits STRIP = new ImageLimits(4096, 16_777_216L, true);
  private static final ImageLimits KEEP = new ImageLimits(4096, 16_777_216L, false);

  /** The bytes the parser stores for {@code png}, fed in chunks of {@code cut} bytes. */
  private static byte[] stored(ImageLimits limits, byte[] png, int cut) {
    ImageParser parser = ImageParser.forType(ImageType.PNG, limits);
    Buffer out = Buffer.buffer();
    for (int at = 0; at < png.length; at += cut) {
      out.appendBuffer(parser.feed(Buffer.buffer().appendBytes(png, at, Math.min(cut, png.length - at))));
    }
    assertEquals(List.of(), parser.finish());
    return out.getBytes();
  }

  private static List<String> types(byte[] png) {
    return Images.pngChunks(png).stream().map(Chunk::type).toList();
  }

  private static List<Chunk> fixture() {
    return new ArrayList<>(Images.pngChunks(Bodies.fixture("images/avatar-128.png")));
  }

  @Test
  @DisplayName("Only the chunks that render are kept; metadata, private and unknown ancillary chunks are dropped")
  void allowList() {
    List<Chunk> chunks = fixture();
    chunks.addAll(1, List.of(new Chunk("sRGB", new byte[] {0}), new Chunk("iCCP", "p\0\0x".getBytes(StandardCharsets.ISO_8859_1)),
      new Chunk("cICP", new byte[] {1, 13, 0, 1}), new Chunk("pHYs", new byte[9]), new Chunk("sBIT", new byte[] {8, 8, 8}),
      new Chunk("hIST", new byte[4]), new Chunk("oFFs", new byte[9]), new Chunk("prVt", "<script>".getBytes(StandardCharsets.US_ASCII)),
      new Chunk("zzZz", new byte[3]), new Chunk("iTXt", "k\0\0\0\0\0v".getBytes(StandardCharsets.ISO_8859_1))));
    byte[] png = Images.png(chunks);

    for (int cut : new int[] {1, 7, 64, png.length}) {
      byte[] stored = stored(STRIP, png, cut);
      assertEquals(List.of("IHDR", "sRGB", "iCCP", "cICP", "pHYs", "gAMA", "cHRM", "IDAT", "IEND"), types(stored));
      assertArrayEquals(Images.stored(png), stored);
    }
  }

  @Test
  @DisplayName("With metadata kept, text and time chunks stay, but private and unknown chunks are still dropped")
  void metadataKept() {
    List<Chunk> chunks = fixture();
    chunks.add(1, new Chunk("prVt", "<script>".getBytes(StandardCharsets.US_ASCII)));
    byte[] stored = stored(KEEP, Images.png(chunks), 5);
    assertEquals(List.of("IHDR", "gAMA", "cHRM", "tIME", "IDAT", "tEXt", "tEXt", "IEND"), types(stored));
  }

  @Test
  @DisplayName("An animated PNG keeps acTL, fcTL and fdAT")
  void apng() {
    List<Chunk> chunks = fixture();
    byte[] frame = ByteBuffer.allocate(26).putInt(0).putInt(128).putInt(128).putInt(0).putInt(0).array();
    byte[] second = ByteBuffer.allocate(26).putInt(1).putInt(64).putInt(64).putInt(64).putInt(64).array();
    int idat = types(Images.png(chunks)).indexOf("IDAT");
    byte[] fdat = ByteBuffer.allocate(4 + chunks.get(idat).data().length).putInt(2).put(chunks.get(idat).data()).array();
    chunks.add(idat + 1, new Chunk("fdAT", fdat));
    chunks.add(idat + 1, new Chunk("fcTL", second));
    chunks.add(idat, new Chunk("fcTL", frame));
    chunks.add(1, new Chunk("acTL", ByteBuffer.allocate(8).putInt(2).putInt(0).array()));
    byte[] png = Images.png(chunks);
    assertEquals(List.of("IHDR", "acTL", "gAMA", "cHRM", "fcTL", "IDAT", "fcTL", "fdAT", "IEND"), types(stored(STRIP, png, 3)));
  }

  @Test
  @DisplayName("The zlib header may be split over IDAT chunks, even empty ones")
  void zlibHeaderSplit() {
    List<Chunk> chunks = fixture();
    int idat = types(Images.png(chunks)).indexOf("IDAT");
    byte[] data = chunks.get(idat).data();
    chunks.set(idat, new Chunk("IDAT", new byte[0]));
    chunks.add(idat + 1, new Chunk("IDAT", Arrays.copyOf(data, 1)));
    chunks.add(idat + 2, new Chunk("IDAT", Arrays.copyOfRange(data, 1, data.length)));
    byte[] png = Images.png(chunks);
    for (int cut : new int[] {1, 2, png.length}) {
      assertArrayEquals(Images.stored(png), stored(STRIP, png, cut));
    }
    // The same split with a header that is not zlib's is refused.
    chunks.set(idat + 1, new Chunk("IDAT", new byte[] {'<'}));
    assertThrows(AvatarException.class, () -> stored(STRIP, Images.png(chunks), 1));
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {80, 81, 99, 100, 4096, 30_000, 100_000, 1024 * 1024})
  @DisplayName("The tests' PNG bodies of an exact size are decodable and stored unchanged")
  void testBodiesAreStoredAsSent(int size) {
    byte[] png = Bodies.png(size, size);
    assertEquals(size, png.length);
    assertArrayEquals(png, stored(STRIP, png, 8192));
    int[] pixels = Images.pixels(png);
    assertEquals(png.length >= 4096 ? Math.min(4096, size / 64) : Math.max(1, size / 64), pixels[0]);
  }
}
