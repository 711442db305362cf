package io.avatarserver;

import io.avatarserver.support.Bodies;
import io.avatarserver.support.Images;
import io.avatarserver.support.Images.Chunk;
import io.avatarserver.support.Images.Segment;
import io.avatarserver.support.RawHttp;
import io.avatarserver.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Content safety: dimensions, floods, hostile files, metadata stripping, trailing data")
class ContentSafetyTest extends ServerTestBase {

  @BeforeAll
  static void start(Vertx vertx) {
    startServer(vertx);
  }

  /** Uploads, expects 2xx, and returns the info and the bytes as served. */
  private record Stored(JsonObject info, byte[] served) {
  }

  private Stored upload(String contentType, byte[] body) {
    long user = server.createUser("safety");
    HttpResponse<byte[]> put = server.put(user, contentType, body);
    assertEquals(201, put.statusCode(), () -> new String(put.body()));
    HttpResponse<byte[]> get = server.get("/users/" + user + "/avatar");
    assertEquals(200, get.statusCode());
    JsonObject info = TestServer.json(put);
    assertEquals(info, TestServer.json(server.get("/users/" + user + "/avatar/info")));
    assertEquals(get.body().length, info.getLong("size"));
    assertEquals(Bodies.sha256(get.body()), info.getString("sha256"), "the SHA-256 describes the stored bytes");
    assertEquals("\"" + info.getString("sha256") + "\"", get.headers().firstValue("ETag").orElse(""));
    return new Stored(info, get.body());
  }

  private void assertRefused(String contentType, byte[] body, int status, String problem) {
    long user = server.createUser("hostile");
    HttpResponse<byte[]> put = server.put(user, contentType, body);
    assertEquals(status, put.statusCode(), () -> new String(put.body()));
    assertEquals("application/problem+json", put.headers().firstValue("Content-Type").orElse(""));
    assertEquals("urn:problem:avatar-server:" + problem, TestServer.json(put).getString("type"));
    assertEquals(List.of(), server.avatarFiles(user), "nothing stored");
    assertEquals(404, server.get("/users/" + user + "/avatar/info").statusCode());
  }

  @ParameterizedTest(name = "{0} as {1} → {2}")
  @CsvSource({
    "html-as-png.png, image/png, 415, unsupported-media-type",
    "random-bytes.bin, image/jpeg, 415, unsupported-media-type",
    "script.svg, image/svg+xml, 415, unsupported-media-type",
    "script.svg, image/png, 415, unsupported-media-type",
    "fifty-bytes.png, image/png, 422, avatar-too-small",
    "truncated.jpg, image/jpeg, 422, invalid-image",
    "pixel-flood-100000x100000.png, image/png, 422, invalid-image",
    "pixel-flood-16384.webp, image/webp, 422, invalid-image",
    "pixel-flood-65535x8191.gif, image/gif, 422, invalid-image",
    "php-with-gif-magic.gif, image/gif, 422, invalid-image",
    "polyglot-gif-html.gif, image/gif, 422, invalid-image",
    "polyglot-jpeg-html.jpg, image/jpeg, 422, invalid-image",
  })
  @DisplayName("Every hostile fixture is refused with its status and a problem, and nothing is stored")
  void hostile(String fixture, String contentType, int status, String problem) {
    assertRefused(contentType, Bodies.fixture("hostile/" + fixture), status, problem);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"bmp", "tiff"})
  @DisplayName("BMP and TIFF are refused with 415, declared as themselves or as PNG")
  void otherFormats(String format) throws IOException {
    BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(image, format, out));
    assertRefused("image/" + format, out.toByteArray(), 415, "unsupported-media-type");
    assertRefused("image/png", out.toByteArray(), 415, "unsupported-media-type");
  }

  @Test
  @DisplayName("A hostile replacement leaves the previous avatar served and intact")
  void hostileReplacementKeepsPrevious() {
    long user = server.createUser("keeps");
    byte[] good = Bodies.fixture("images/avatar-256.jpg");
    assertEquals(201, server.put(user, "image/jpeg", good).statusCode());

    assertEquals(422, server.put(user, "image/jpeg", Bodies.fixture("hostile/polyglot-jpeg-html.jpg")).statusCode());
    assertEquals(422, server.put(user, "image/png", Bodies.fixture("hostile/pixel-flood-100000x100000.png")).statusCode());

    assertArrayEquals(good, server.get("/users/" + user + "/avatar").body());
    assertEquals(1, server.avatarFiles(user).size());
  }

  @Test
  @DisplayName("A pixel flood is refused as soon as its header arrives, without waiting for the body")
  void floodRefusedAtHeader() {
    long user = server.createUser("flood-early");
    byte[] header = Bodies.fixture("hostile/pixel-flood-100000x100000.png");
    try (RawHttp raw = new RawHttp(server.port())) {
      // Announces 5 MiB, sends only the PNG signature and IHDR, then waits for the answer.
      raw.write(server.putHead(user, "image/png", 5 * 1024 * 1024));
      raw.write(Arrays.copyOf(header, 33));
      String response = raw.readResponse();
      assertEquals(422, RawHttp.status(response), response);
      assertTrue(response.contains("urn:problem:avatar-server:invalid-image"), response);
    }
    assertEquals(List.of(), server.avatarFiles(user));
  }

  @ParameterizedTest(name = "{0}: {2}×{3}")
  @CsvSource({
    "images/avatar-128.png, image/png, 128, 128",
    "images/avatar-200.png, image/png, 200, 200",
    "images/avatar-200.webp, image/webp, 200, 200",
    "images/avatar-256.jpg, image/jpeg, 256, 256",
    "images/avatar-64.gif, image/gif, 64, 64",
    "images/gps-tagged.jpg, image/jpeg, 256, 256",
    "images/large-1200.jpg, image/jpeg, 1200, 1200",
    "hostile/late-frame-header.jpg, image/jpeg, 256, 256",
  })
  @DisplayName("Every good image is accepted with its dimensions read from the header, and its pixels unchanged")
  void goodImages(String fixture, String contentType, int width, int height) {
    byte[] body = Bodies.fixture(fixture);

    Stored stored = upload(contentType, body);

    assertEquals(width, stored.info().getInteger("width"));
    assertEquals(height, stored.info().getInteger("height"));
    assertSamePixels(body, stored.served());
  }

  /** JPEG, PNG and GIF are decoded and compared pixel by pixel; WebP (no decoder in the JDK) by its bitstream chunk. */
  private static void assertSamePixels(byte[] sent, byte[] served) {
    if (Images.startsWith(sent, "RIFF")) {
      assertArrayEquals(bitstream(sent), bitstream(served));
    } else {
      assertArrayEquals(Images.pixels(sent), Images.pixels(served));
    }
  }

  private static byte[] bitstream(byte[] webp) {
    return Images.riffChunks(webp).stream().filter(c -> c.type().startsWith("VP8 ") || c.type().equals("VP8L"))
      .findFirst().orElseThrow().data();
  }

  @Test
  @DisplayName("A frame header after 95 KB of APPn segments is found, and the junk segments are not stored")
  void lateFrameHeader() {
    byte[] body = Bodies.fixture("hostile/late-frame-header.jpg");
    Stored stored = upload("image/jpeg", body);
    assertArrayEquals(Images.stored(body), stored.served());
    assertTrue(stored.served().length < body.length - 95_000, "APP1 and APP2 (not an ICC profile) dropped");
  }

  @Test
  @DisplayName("gps-tagged.jpg is served without its EXIF: no GPS tags, no camera make")
  void gpsStripped() {
    byte[] body = Bodies.fixture("images/gps-tagged.jpg");
    assertTrue(Images.jpegExifTags(body).containsKey(Images.GPS_IFD), "the fixture carries GPS tags");

    Stored stored = upload("image/jpeg", body);

    assertEquals(Map.of(), Images.jpegExifTags(stored.served()));
    assertTrue(Images.jpegSegments(stored.served()).stream().noneMatch(s -> s.marker() == 0xE1), "no APP1 left");
    assertArrayEquals(Images.stored(body), stored.served());
  }

  @ParameterizedTest(name = "little-endian EXIF: {0}")
  @ValueSource(booleans = {true, false})
  @DisplayName("A JPEG with EXIF orientation 6 keeps only that tag: it still displays upright, and GPS is gone")
  void jpegOrientationKept(boolean littleEndian) {
    byte[] base = Bodies.fixture("images/avatar-256.jpg");
    byte[] body = Images.jpegWith(base, new Segment(0xE1, Images.exifPayload(Images.cameraTiff(littleEndian, 6))));
    assertEquals(6L, Images.jpegExifTags(body).get(Images.ORIENTATION));

    Stored stored = upload("image/jpeg", body);

    assertEquals(Map.of(Images.ORIENTATION, 6L), Images.jpegExifTags(stored.served()));
    assertSamePixels(body, stored.served());
    assertEquals(256, stored.info().getInteger("width"), "dimensions as stored, before any rotation");
  }

  @Test
  @DisplayName("JPEG: XMP, comments and IPTC are dropped; JFIF, the ICC profile and Adobe are kept byte for byte")
  void jpegSegmentsKeptAndDropped() {
    byte[] icc = Images.concat("ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII), new byte[] {1, 1},
      ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData());
    byte[] adobe = {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 1};
    byte[] xmp = ("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>48,51.24N</exif:GPSLatitude></x:xmpmeta>")
      .getBytes(StandardCharsets.US_ASCII);
    byte[] iptc = "Photoshop 3.0\08BIM\u0004\u0004\0\0\0\0\0\u0005by me".getBytes(StandardCharsets.ISO_8859_1);
    byte[] base = Bodies.fixture("images/avatar-256.jpg");
    byte[] body = Images.jpegWith(base,
      new Segment(0xE1, xmp), new Segment(0xE2, icc), new Segment(0xFE, "shot at home".getBytes(StandardCharsets.US_ASCII)),
      new Segment(0xED, iptc), new Segment(0xEE, adobe));

    Stored stored = upload("image/jpeg", body);

    List<Integer> markers = Images.jpegSegments(stored.served()).stream().map(Segment::marker).toList();
    assertEquals(List.of(0xE0, 0xE2, 0xEE, 0xDB, 0xDB, 0xC0, 0xC4, 0xC4, 0xC4, 0xC4, 0xDA), markers);
    assertArrayEquals(icc, Images.jpegSegments(stored.served()).get(1).payload());
    assertArrayEquals(Images.stored(body), stored.served());
    assertFalse(new String(stored.served(), StandardCharsets.ISO_8859_1).contains("GPS"));
    assertSamePixels(body, stored.served());
  }

  @Test
  @DisplayName("PNG: text, time, eXIf, bKGD and other chunks not needed to render are dropped, colour chunks kept; an eXIf orientation is written back alone")
  void pngChunks() {
    byte[] base = Bodies.fixture("images/avatar-128.png");
    byte[] body = Images.pngWith(base,
      new Chunk("iTXt", "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>GPS</x:xmpmeta>".getBytes(StandardCharsets.US_ASCII)),
      new Chunk("zTXt", new byte[] {'A', 'u', 't', 'h', 'o', 'r', 0, 0, 0x78, (byte) 0x9c, 3, 0, 0, 0, 0, 1}),
      new Chunk("eXIf", Images.cameraTiff(false, 6)));

    Stored stored = upload("image/png", body);

    List<Chunk> chunks = Images.pngChunks(stored.served());
    assertEquals(List.of("IHDR", "eXIf", "gAMA", "cHRM", "IDAT", "IEND"),
      chunks.stream().map(Chunk::type).toList());
    assertEquals(Map.of(Images.ORIENTATION, 6L), Images.tiffTags(chunks.get(1).data(), 0));
    assertSamePixels(body, stored.served());
    assertEquals(128, stored.info().getInteger("width"));
  }

  @Test
  @DisplayName("PNG: a private chunk holding <script>, an unknown ancillary one and a second file are dropped; pixels unchanged")
  void pngPrivateChunksDropped() {
    byte[] base = Bodies.fixture("images/avatar-128.png");
    byte[] script = "<script>alert(document.cookie)</script>".getBytes(StandardCharsets.US_ASCII);
    byte[] body = Images.pngWith(base,
      new Chunk("prVt", script),
      new Chunk("htMl", "<html><body onload=alert(1)>".getBytes(StandardCharsets.US_ASCII)),
      new Chunk("zIPx", Images.concat(new byte[] {'P', 'K', 3, 4}, new byte[64])),
      new Chunk("sRGB", new byte[] {0}),
      new Chunk("pHYs", new byte[] {0, 0, 11, 19, 0, 0, 11, 19, 1}),
      new Chunk("sPLT", "palette\0\u0008".getBytes(StandardCharsets.ISO_8859_1)));

    Stored stored = upload("image/png", body);

    List<String> types = Images.pngChunks(stored.served()).stream().map(Chunk::type).toList();
    assertEquals(List.of("IHDR", "sRGB", "pHYs", "gAMA", "cHRM", "IDAT", "IEND"), types);
    String served = new String(stored.served(), StandardCharsets.ISO_8859_1);
    assertFalse(served.contains("<script>") || served.contains("<html>") || served.contains("PK"), served);
    assertArrayEquals(Images.stored(body), stored.served());
    assertSamePixels(body, stored.served());
  }

  /** A PNG of the fixture's chunks with IHDR's data replaced by {@code ihdr} and the chunks edited by {@code edit}. */
  private static byte[] pngEdited(java.util.function.Consumer<List<Chunk>> edit) {
    List<Chunk> chunks = new java.util.ArrayList<>(Images.pngChunks(Bodies.fixture("images/avatar-128.png")));
    edit.accept(chunks);
    return Images.png(chunks);
  }

  private static Chunk ihdr(int width, int height, int bitDepth, int colourType) {
    return new Chunk("IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) bitDepth)
      .put((byte) colourType).array());
  }

  private static int indexOf(List<Chunk> chunks, String type) {
    for (int i = 0; i < chunks.size(); i++) {
      if (chunks.get(i).type().equals(type)) {
        return i;
      }
    }
    throw new IllegalArgumentException(type);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"second-ihdr", "bit-depth-7", "truecolour-depth-4", "colour-type-5", "indexed-without-palette",
    "palette-in-greyscale", "script-as-idat", "zlib-with-dictionary", "unknown-critical", "not-a-chunk-type",
    "no-idat", "idat-not-consecutive", "iend-with-data", "interlace-2", "frame-outside"})
  @DisplayName("PNG: a broken or smuggling structure is refused with 422, nothing stored")
  void pngStructureRefused(String kind) {
    byte[] body = pngEdited(chunks -> {
      int idat = indexOf(chunks, "IDAT");
      switch (kind) {
        case "second-ihdr" -> chunks.add(idat, chunks.get(0));
        case "bit-depth-7" -> chunks.set(0, ihdr(128, 128, 7, 6));
        case "truecolour-depth-4" -> chunks.set(0, ihdr(128, 128, 4, 2));
        case "colour-type-5" -> chunks.set(0, ihdr(128, 128, 8, 5));
        case "indexed-without-palette" -> chunks.set(0, ihdr(128, 128, 8, 3));
        case "palette-in-greyscale" -> {
          chunks.set(0, ihdr(128, 128, 8, 0));
          chunks.add(idat, new Chunk("PLTE", new byte[] {0, 0, 0}));
        }
        case "script-as-idat" -> chunks.set(idat, new Chunk("IDAT", "<script>alert(1)</script>".getBytes(StandardCharsets.US_ASCII)));
        case "zlib-with-dictionary" -> {
          byte[] data = chunks.get(idat).data().clone();
          data[0] = 0x78;
          data[1] = 0x3F; // FDICT set, and 0x783F is a multiple of 31
          chunks.set(idat, new Chunk("IDAT", data));
        }
        case "unknown-critical" -> chunks.add(idat, new Chunk("EVIL", "<script>".getBytes(StandardCharsets.US_ASCII)));
        case "not-a-chunk-type" -> chunks.add(idat, new Chunk("<sc>", new byte[4]));
        case "no-idat" -> chunks.remove(idat);
        case "idat-not-consecutive" -> {
          byte[] data = chunks.get(idat).data();
          chunks.set(idat, new Chunk("IDAT", Arrays.copyOf(data, 100)));
          chunks.add(idat + 1, new Chunk("tEXt", "a\0b".getBytes(StandardCharsets.US_ASCII)));
          chunks.add(idat + 2, new Chunk("IDAT", Arrays.copyOfRange(data, 100, data.length)));
        }
        case "iend-with-data" -> chunks.set(chunks.size() - 1, new Chunk("IEND", "<script>".getBytes(StandardCharsets.US_ASCII)));
        case "interlace-2" -> chunks.set(0, new Chunk("IHDR", ByteBuffer.allocate(13).putInt(128).putInt(128).put((byte) 8)
          .put((byte) 6).put((byte) 0).put((byte) 0).put((byte) 2).array()));
        case "frame-outside" -> {
          chunks.add(1, new Chunk("acTL", ByteBuffer.allocate(8).putInt(1).putInt(0).array()));
          chunks.add(2, new Chunk("fcTL", ByteBuffer.allocate(26).putInt(0).putInt(128).putInt(128).putInt(64).putInt(0)
            .array()));
        }
        default -> throw new IllegalArgumentException(kind);
      }
    });
    assertRefused("image/png", body, 422, "invalid-image");
  }

  @Test
  @DisplayName("GIF: a comment extension is dropped, the rest stored byte for byte")
  void gifComment() {
    byte[] base = Bodies.fixture("images/avatar-64.gif");
    byte[] body = Images.gifWithComment(base, "taken at 48.8584 N, 2.2945 E");

    Stored stored = upload("image/gif", body);

    assertArrayEquals(base, stored.served());
    assertSamePixels(body, stored.served());
  }

  @Test
  @DisplayName("A GIF whose screen is small but whose frame is a flood is refused")
  void gifFrameFlood() {
    byte[] gif = Bodies.fixture("images/avatar-64.gif").clone();
    // The image descriptor follows the colour table (13 + 48) and a graphic control extension (8).
    int descriptor = 13 + 48 + 8;
    assertEquals(0x2C, gif[descriptor]);
    ByteBuffer.wrap(gif, descriptor + 5, 4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 30000).putShort((short) 30000);
    assertRefused("image/gif", gif, 422, "invalid-image");
  }

  @ParameterizedTest(name = "orientation {0}")
  @ValueSource(ints = {6, 0})
  @DisplayName("WebP: EXIF and XMP chunks dropped, the RIFF size and VP8X flags fixed; an EXIF orientation is kept alone")
  void webpChunks(int orientation) {
    byte[] vp8 = bitstream(Bodies.fixture("images/avatar-200.webp"));
    byte[] body = Images.webp(List.of(
      new Chunk("VP8X", Images.vp8x(0x08 | 0x04, 200, 200)),
      new Chunk("VP8 ", vp8),
      new Chunk("EXIF", Images.cameraTiff(true, orientation)),
      new Chunk("XMP ", "<x:xmpmeta>GPS 48.85N</x:xmpmeta>".getBytes(StandardCharsets.US_ASCII))));

    Stored stored = upload("image/webp", body);

    byte[] served = stored.served();
    assertEquals(served.length - 8, ByteBuffer.wrap(served).order(ByteOrder.LITTLE_ENDIAN).getInt(4), "RIFF size");
    List<Chunk> chunks = Images.riffChunks(served);
    assertArrayEquals(vp8, chunks.get(1).data());
    if (orientation == 6) {
      assertEquals(List.of("VP8X", "VP8 ", "EXIF"), chunks.stream().map(Chunk::type).toList());
      assertEquals(0x08, chunks.get(0).data()[0], "VP8X flags: EXIF only");
      assertEquals(Map.of(Images.ORIENTATION, 6L), Images.tiffTags(chunks.get(2).data(), 0));
    } else {
      assertEquals(List.of("VP8X", "VP8 "), chunks.stream().map(Chunk::type).toList());
      assertEquals(0, chunks.get(0).data()[0], "VP8X flags: none");
    }
    assertEquals(200, stored.info().getInteger("width"));
    assertEquals(200, stored.info().getInteger("height"));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "images/avatar-256.jpg, image/jpeg",
    "images/avatar-128.png, image/png",
    "images/avatar-64.gif, image/gif",
    "images/avatar-200.webp, image/webp",
  })
  @DisplayName("Data after the image's end is refused with 422; zero padding is accepted and not stored")
  void trailingData(String fixture, String contentType) throws Exception {
    byte[] image = Bodies.fixture(fixture);
    assertRefused(contentType, Images.concat(image, "<script>alert(1)</script>".getBytes(StandardCharsets.US_ASCII)),
      422, "invalid-image");

    Stored padded = upload(contentType, Images.concat(image, new byte[4096]));
    assertArrayEquals(Images.stored(image), padded.served());
    assertArrayEquals(Images.stored(image), Files.readAllBytes(server.avatarFiles(padded.info().getLong("userId")).get(0)));
  }

  @Test
  @DisplayName("A truncated image is refused with 422 whatever the format")
  void truncated() {
    assertRefused("image/png", Arrays.copyOf(Bodies.fixture("images/avatar-200.png"), 100_000), 422, "invalid-image");
    assertRefused("image/gif", Arrays.copyOf(Bodies.fixture("images/avatar-64.gif"), 300), 422, "invalid-image");
    assertRefused("image/webp", Arrays.copyOf(Bodies.fixture("images/avatar-200.webp"), 3000), 422, "invalid-image");
    assertRefused("image/jpeg", Arrays.copyOf(Bodies.fixture("images/large-1200.jpg"), 700_000), 422, "invalid-image");
  }
}
