package io.avatarserver.variant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Node;

/**
 * The pure-Java renderer on real files. The variant fixtures are 300×200 (the animated ones 120×80):
 * blue outside the centre square, whose quadrants are red, green (top), yellow, magenta (bottom), so a
 * sample of each quadrant checks crop, orientation and colour at once.
 */
class JavaRendererTest {

  private static final int RED = 0xff0000;
  private static final int GREEN = 0x00ff00;
  private static final int YELLOW = 0xffff00;
  private static final int MAGENTA = 0xff00ff;
  private static final int BLUE = 0x0000ff;
  private static final int WHITE = 0xffffff;

  @TempDir
  Path dir;

  private final List<BufferedImage> decoded = new ArrayList<>();
  private final JavaRenderer renderer = new JavaRenderer(decoded::add);

  // ------------------------------------------------------------------ probe

  @Test
  void probeReadsHeadersWithoutDecoding() throws Exception {
    assertEquals(new SourceInfo("image/jpeg", 300, 200, 1, 1), probe("variants/baseline.jpg"));
    assertEquals(new SourceInfo("image/jpeg", 300, 200, 1, 1), probe("variants/progressive.jpg"));
    assertEquals(new SourceInfo("image/jpeg", 200, 300, 1, 6), probe("variants/rotated6.jpg"));
    assertEquals(new SourceInfo("image/png", 300, 200, 1, 1), probe("variants/deep16.png"));
    assertEquals(new SourceInfo("image/gif", 120, 80, 3, 1), probe("variants/animated.gif"));
    assertEquals(new SourceInfo("image/gif", 16, 16, 120, 1), probe("variants/many-frames.gif"));
    assertEquals(new SourceInfo("image/webp", 300, 200, 1, 1), probe("variants/lossy.webp"));
    assertEquals(new SourceInfo("image/webp", 300, 200, 1, 1), probe("variants/lossless.webp"));
    assertEquals(new SourceInfo("image/webp", 120, 80, 3, 1), probe("variants/animated.webp"));
    assertEquals(new SourceInfo("image/png", 100000, 100000, 1, 1), probe("hostile/pixel-flood-100000x100000.png"));
    assertTrue(decoded.isEmpty(), "probing decodes nothing");
  }

  @ParameterizedTest
  @ValueSource(strings = {"hostile/random-bytes.bin", "hostile/script.svg", "hostile/html-as-png.png"})
  void probeRefusesWhatIsNotAnImage(String fixture) {
    assertThrows(RenderException.class, () -> probe(fixture));
  }

  // ------------------------------------------------------------------ every fixture, every format

  @ParameterizedTest
  @ValueSource(strings = {"baseline.jpg", "progressive.jpg", "cmyk.jpg", "rotated6.jpg", "palette.png",
    "deep16.png", "static.gif", "lossy.webp"})
  void everyFixtureRendersItsCentreSquareInEveryFormat(String fixture) throws Exception {
    int tolerance = 40;
    for (VariantFormat format : VariantFormat.values()) {
      Rendered r = single("variants/" + fixture, new VariantSpec(64, format, false));
      BufferedImage img = read(r.bytes());
      assertEquals(64, img.getWidth(), fixture + " as " + format);
      assertEquals(64, img.getHeight(), fixture + " as " + format);
      assertEquals(64, r.width());
      assertFalse(r.animated());
      if (!fixture.equals("palette.png")) {
        assertColour(img, 16, 16, RED, tolerance, fixture + " as " + format);
      }
      assertColour(img, 48, 16, GREEN, tolerance, fixture + " as " + format);
      assertColour(img, 16, 48, YELLOW, tolerance, fixture + " as " + format);
      assertColour(img, 48, 48, MAGENTA, tolerance, fixture + " as " + format);
      assertNotBlueEdges(img, fixture + " as " + format);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"variants/rotated6.jpg", "variants/rotated6.webp"})
  void exifOrientationIsAppliedToTheVariant(String fixture) throws Exception {
    assertEquals(6, probe(fixture).orientation());
    // Stored turned a quarter to the left, tagged 6: displayed, red is top-left (green when ignored).
    for (VariantFormat format : List.of(VariantFormat.PNG, VariantFormat.WEBP)) {
      BufferedImage img = read(single(fixture, new VariantSpec(64, format, false)).bytes());
      assertColour(img, 4, 4, RED, 40, "top-left");
      assertColour(img, 59, 4, GREEN, 40, "top-right");
      assertColour(img, 4, 59, YELLOW, 40, "bottom-left");
      assertColour(img, 59, 59, MAGENTA, 40, "bottom-right");
    }
  }

  @Test
  void alphaIsKeptInPngAndWebpAndFlattenedOnWhiteInJpeg() throws Exception {
    for (String fixture : List.of("variants/alpha.png", "variants/palette.png", "variants/lossless.webp")) {
      BufferedImage png = read(single(fixture, new VariantSpec(64, VariantFormat.PNG, false)).bytes());
      assertEquals(0, png.getRGB(16, 16) >>> 24, fixture + ": transparent quadrant in PNG");
      assertEquals(0xff, png.getRGB(48, 48) >>> 24, fixture);
      BufferedImage webp = read(single(fixture, new VariantSpec(64, VariantFormat.WEBP, false)).bytes());
      assertTrue((webp.getRGB(16, 16) >>> 24) < 16, fixture + ": transparent quadrant in WebP");
      assertColour(webp, 48, 48, MAGENTA, 40, fixture);
      BufferedImage jpeg = read(single(fixture, new VariantSpec(64, VariantFormat.JPEG, false)).bytes());
      assertColour(jpeg, 16, 16, WHITE, 20, fixture + ": transparent on white in JPEG");
      assertColour(jpeg, 48, 48, MAGENTA, 40, fixture);
      BufferedImage gif = read(single(fixture, new VariantSpec(64, VariantFormat.GIF, false)).bytes());
      assertEquals(0, gif.getRGB(16, 16) >>> 24, fixture + ": transparent quadrant in GIF");
    }
  }

  @Test
  void greyscaleStaysGreyAndKeepsItsLevels() throws Exception {
    BufferedImage original = ImageIO.read(fixture("variants/gray.png").toFile());
    int expected = original.getRaster().getSample(75, 50, 0); // the red quadrant's grey
    BufferedImage img = read(single("variants/gray.png", new VariantSpec(64, VariantFormat.PNG, false)).bytes());
    int rgb = img.getRGB(16, 16);
    int r = rgb >> 16 & 0xff;
    assertEquals(r, rgb >> 8 & 0xff);
    assertEquals(r, rgb & 0xff);
    assertTrue(Math.abs(r - expected) <= 2, "grey level " + r + " for " + expected);
  }

  @Test
  void smallerOriginalsAreScaledUpToTheExactSize() throws Exception {
    Rendered r = single("images/avatar-64.gif", new VariantSpec(200, VariantFormat.PNG, false));
    BufferedImage img = read(r.bytes());
    assertEquals(200, img.getWidth());
    assertEquals(200, img.getHeight());
  }

  // ------------------------------------------------------------------ metadata

  @ParameterizedTest
  @ValueSource(strings = {"images/gps-tagged.jpg", "variants/rotated6.jpg", "images/avatar-200.png"})
  void variantsCarryNoMetadata(String fixture) throws Exception {
    for (VariantFormat format : VariantFormat.values()) {
      byte[] bytes = single(fixture, new VariantSpec(48, format, false)).bytes();
      String latin = new String(bytes, StandardCharsets.ISO_8859_1);
      assertFalse(latin.contains("Exif"), fixture + " as " + format + ": EXIF");
      assertFalse(latin.contains("http://ns.adobe.com/xap"), fixture + " as " + format + ": XMP");
      switch (format) {
        case JPEG -> assertEquals(List.of(0xE0), jpegAppMarkers(bytes), fixture + ": only the JFIF APP0");
        case PNG -> {
          List<String> chunks = pngChunks(bytes);
          for (String banned : List.of("tEXt", "zTXt", "iTXt", "eXIf", "iCCP", "tIME")) {
            assertFalse(chunks.contains(banned), fixture + ": PNG chunk " + banned + " in " + chunks);
          }
        }
        case WEBP -> {
          assertFalse(latin.contains("EXIF"), fixture + ": WebP EXIF chunk");
          assertFalse(latin.contains("XMP "), fixture + ": WebP XMP chunk");
          assertFalse(latin.contains("ICCP"), fixture + ": WebP ICC chunk");
        }
        case GIF -> assertFalse(latin.contains("XMP DataXMP"), fixture + ": GIF XMP");
      }
    }
  }

  // ------------------------------------------------------------------ one decode, several sizes

  @Test
  void severalSizesComeFromOneDecodeInTheOrderAsked() throws Exception {
    Path file = fixture("images/large-1200.jpg");
    List<VariantSpec> specs = List.of(new VariantSpec(64, VariantFormat.WEBP, false),
      new VariantSpec(256, VariantFormat.JPEG, false), new VariantSpec(32, VariantFormat.PNG, false),
      new VariantSpec(128, VariantFormat.GIF, false));
    List<Rendered> out = renderer.render(file, renderer.probe(file, "image/jpeg"), specs, RenderLimits.DEFAULT);
    assertEquals(1, decoded.size(), "one decode for every size");
    assertTrue(decoded.get(0).getWidth() <= 512 && decoded.get(0).getWidth() >= 256, "decoded " + decoded.get(0).getWidth());
    assertEquals(specs.size(), out.size());
    for (int i = 0; i < specs.size(); i++) {
      assertEquals(specs.get(i), out.get(i).spec());
      BufferedImage img = read(out.get(i).bytes());
      assertEquals(specs.get(i).size(), img.getWidth());
      assertEquals(specs.get(i).size(), img.getHeight());
    }
  }

  @Test
  void aPixelBombDecodesOnlyASubsampledSquare() throws Exception {
    Path bomb = dir.resolve("bomb.png");
    writeBlankRgbaPng(bomb, 4096, 4096);
    assertTrue(Files.size(bomb) < 100_000, "a small file: " + Files.size(bomb));
    SourceInfo info = renderer.probe(bomb, "image/png");
    assertEquals(4096L * 4096, info.pixels());

    List<Rendered> out = renderer.render(bomb, info, List.of(new VariantSpec(64, VariantFormat.PNG, false),
      new VariantSpec(32, VariantFormat.WEBP, false)), RenderLimits.DEFAULT);
    assertEquals(1, decoded.size());
    BufferedImage raster = decoded.get(0);
    assertTrue(raster.getWidth() <= 128 && raster.getHeight() <= 128,
      "decoded " + raster.getWidth() + "x" + raster.getHeight() + ", not 4096x4096");
    assertTrue(raster.getWidth() >= 64);
    assertEquals(64, read(out.get(0).bytes()).getWidth());
    assertEquals(32, read(out.get(1).bytes()).getWidth());

    decoded.clear();
    renderer.render(bomb, info, List.of(new VariantSpec(256, VariantFormat.JPEG, false)), RenderLimits.DEFAULT);
    assertTrue(decoded.get(0).getWidth() <= 512 && decoded.get(0).getHeight() <= 512);
  }

  @Test
  void aLargeVariantOfAHugeOriginalDecodesNoMoreThanItsOwnSide() throws Exception {
    // A 4096×4096 16-bit RGBA PNG at 1024 px: a 2× oversampled decode would be a 2048×2048 raster of
    // 32 MiB (and 16 MiB more as ARGB); two of them at once do not fit in the 64 MiB heap of the memory proof.
    Path huge = dir.resolve("huge16.png");
    Files.write(huge, io.avatarserver.support.WorstCaseImages.png16Interlaced(4096));
    Rendered r = single(huge, new VariantSpec(1024, VariantFormat.PNG, false));
    assertEquals(1024, read(r.bytes()).getWidth());
    assertEquals(1, decoded.size());
    assertEquals(1024, decoded.get(0).getWidth(), "decoded " + decoded.get(0).getWidth() + " px a side");
    // Between 1024 and 2047 px no integer subsampling keeps 1024 px: the original is decoded as it is.
    JavaRenderer.Geometry g = JavaRenderer.Geometry.of(new SourceInfo("image/png", 3000, 3000, 1, 1), 1024);
    assertEquals(1500, g.decoded(), "3000 px: subsampled by 2, not 3 (1000 px would be below the target)");
    assertEquals(128, JavaRenderer.Geometry.of(new SourceInfo("image/png", 4096, 4096, 1, 1), 64).decoded(),
      "small targets keep their 2× oversampling");
    assertEquals(1024, JavaRenderer.Geometry.of(new SourceInfo("image/png", 4096, 4096, 1, 1), 512).decoded());
  }

  @Test
  void aSixteenBitPngDecodedWholeIsDecodedAtEightBitsASample() throws Exception {
    // Decoded whole (300 px: nothing to stream), with and without interlacing: into a packed 8-bit ARGB
    // raster (4 bytes a pixel), not the reader's 16-bit one (8) beside an ARGB copy of it (4 more).
    for (boolean interlaced : new boolean[] {false, true}) {
      Path file = dir.resolve("deep" + interlaced + ".png");
      Files.write(file, interlaced ? io.avatarserver.support.WorstCaseImages.png16Interlaced(300)
        : io.avatarserver.support.WorstCaseImages.png16(300));
      decoded.clear();
      Rendered r = single(file, new VariantSpec(256, VariantFormat.PNG, false));
      assertEquals(256, read(r.bytes()).getWidth());
      assertEquals(1, decoded.size());
      BufferedImage raster = decoded.get(0);
      assertEquals(BufferedImage.TYPE_INT_ARGB, raster.getType(), "interlaced " + interlaced + ": 4 bytes a pixel");
      BufferedImage reference = ImageIO.read(file.toFile());
      assertEquals(16, reference.getSampleModel().getSampleSize(0), "the reader's own type is 16-bit");
      assertEquals(300, raster.getWidth());
      // The raster has since been premultiplied where it lies (it is the render's square): compare so.
      BufferedImage premultiplied = new BufferedImage(300, 300, BufferedImage.TYPE_INT_ARGB_PRE);
      java.awt.Graphics2D g = premultiplied.createGraphics();
      g.setComposite(java.awt.AlphaComposite.Src);
      g.drawImage(reference, 0, 0, null);
      g.dispose();
      int[] got300 = ((java.awt.image.DataBufferInt) raster.getRaster().getDataBuffer()).getData();
      int[] want300 = ((java.awt.image.DataBufferInt) premultiplied.getRaster().getDataBuffer()).getData();
      for (int y = 0; y < 300; y += 7) {
        for (int x = 0; x < 300; x += 3) {
          int want = want300[y * 300 + x];
          int got = got300[y * 300 + x];
          for (int shift = 0; shift <= 24; shift += 8) {
            assertTrue(Math.abs((got >> shift & 0xff) - (want >> shift & 0xff)) <= 1,
              "interlaced " + interlaced + " at " + x + "," + y + ": " + Integer.toHexString(got) + " vs " + Integer.toHexString(want));
          }
        }
      }
    }
  }

  @Test
  void largeRendersTakeTurnsWhileOtherWorkHoldsTheHeapAndRunAtOnceWhenItLeavesRoom() throws Exception {
    // The budget of a 64 MiB heap (32 MiB); a 1024 px render of a 4096² 16-bit PNG reserves 12 MiB of it.
    Path huge = dir.resolve("huge16.png");
    Files.write(huge, io.avatarserver.support.WorstCaseImages.png16Interlaced(4096));
    AtomicReference<CountDownLatch> firstDecoded =
      new AtomicReference<>();
    AtomicReference<CountDownLatch> letGo =
      new AtomicReference<>();
    AtomicInteger decodes = new AtomicInteger();
    JavaRenderer shared = new JavaRenderer(raster -> {
      if (decodes.getAndIncrement() == 0) {
        firstDecoded.get().countDown();
        try {
          assertTrue(letGo.get().await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
    }, 32L << 20);
    AtomicLong others = new AtomicLong(20L << 20);
    shared.shareHeapWith(others::get);
    SourceInfo info = shared.probe(huge, null);
    List<VariantSpec> spec = List.of(new VariantSpec(1024, VariantFormat.PNG, false));
    long one = 1024L * 1024 * JavaRenderer.BYTES_PER_DECODED_PIXEL;

    for (boolean uploadsHoldTheHeap : new boolean[] {true, false}) {
      others.set(uploadsHoldTheHeap ? 20L << 20 : 0);
      decodes.set(0);
      CountDownLatch first = new CountDownLatch(1);
      firstDecoded.set(first);
      letGo.set(new CountDownLatch(1));
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<List<Rendered>> a = pool.submit(() -> shared.render(huge, info, spec, RenderLimits.DEFAULT));
        assertTrue(first.await(60, TimeUnit.SECONDS));
        assertEquals(one, shared.heapReservedBytes(), "the first render holds its 12 MiB, decoded and held up");
        Future<List<Rendered>> b = pool.submit(() -> shared.render(huge, info, spec, RenderLimits.DEFAULT));
        long deadline = System.nanoTime() + 500_000_000L;
        long most = 0;
        while (System.nanoTime() < deadline && most < 2 * one) {
          most = Math.max(most, shared.heapReservedBytes());
          Thread.sleep(5);
        }
        if (uploadsHoldTheHeap) {
          // 32 MiB less the uploads' 20 leaves 12: the second waits for the first.
          assertEquals(one, most, "the second render waited while the first held the room the uploads left");
        } else {
          assertEquals(2 * one, most, "with the heap to themselves, both renders hold their share at once");
        }
        letGo.get().countDown();
        assertEquals(1024, read(a.get(60, TimeUnit.SECONDS).get(0).bytes()).getWidth());
        assertEquals(1024, read(b.get(60, TimeUnit.SECONDS).get(0).bytes()).getWidth());
        assertEquals(0, shared.heapReservedBytes(), "all given back");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void largeRendersShareAHeapBudgetAndSmallOnesLeaveRoom() throws Exception {
    // A budget of 16 MiB, seen from inside each decode.
    List<Integer> availableAtDecode = new ArrayList<>();
    JavaRenderer[] budgeted = new JavaRenderer[1];
    budgeted[0] = new JavaRenderer(raster -> availableAtDecode.add(budgeted[0].availableHeapKib()), 16L << 20);
    Path huge = dir.resolve("huge16.png");
    Files.write(huge, io.avatarserver.support.WorstCaseImages.png16Interlaced(4096));
    SourceInfo info = budgeted[0].probe(huge, null);
    budgeted[0].render(huge, info, List.of(new VariantSpec(1024, VariantFormat.PNG, false)), RenderLimits.DEFAULT);
    budgeted[0].render(huge, info, List.of(new VariantSpec(64, VariantFormat.PNG, false)), RenderLimits.DEFAULT);
    // 1024² × 12 bytes (12 MiB) would be more than half of it: decoded coarser, 820² (sub 5), 7,879 KiB.
    assertEquals(16 * 1024 - 820 * 820 * 12 / 1024, availableAtDecode.get(0), "820² × 12 bytes");
    assertEquals(16 * 1024 - 128 * 128 * 12 / 1024, availableAtDecode.get(1), "128² × 12 bytes: 192 KiB of it");
    assertEquals(16 * 1024, budgeted[0].availableHeapKib(), "given back");

    // Half of 8 MiB: 586² (sub 7). The variant is still 1024 px, scaled up from it.
    availableAtDecode.clear();
    JavaRenderer small = budgeted[0] = new JavaRenderer(raster -> availableAtDecode.add(budgeted[0].availableHeapKib()), 8L << 20);
    Rendered up = small.render(huge, info, List.of(new VariantSpec(1024, VariantFormat.PNG, false)), RenderLimits.DEFAULT).get(0);
    assertEquals(8 * 1024 - 586 * 586 * 12 / 1024, availableAtDecode.get(0));
    assertEquals(1024, read(up.bytes()).getWidth());
  }

  @Test
  void twoWorstCaseRendersRunAtOnceInTheBudgetOfA64MibHeap() throws Exception {
    // The costliest 1024 px renders of the originals the upload limits let in (4096², 10 MiB): a GIF of
    // 5 frames, kept animated (the most reserved: 1024² × 16 bytes) and an interlaced 16-bit RGBA PNG
    // (the largest decoded raster). The PNG is rendered from inside the GIF's first decode, so the two
    // are in flight at once; under a budget too small for both it would wait for the GIF for ever,
    // so the room is checked first (it was not there when 1024² renders took 16, 24 bytes a pixel of 16 MiB).
    Path gif = dir.resolve("worst.gif");
    Files.write(gif, io.avatarserver.support.WorstCaseImages.gif(4096, 4096, 5));
    Path png = dir.resolve("worst16.png");
    Files.write(png, io.avatarserver.support.WorstCaseImages.png16Interlaced(4096));
    assertTrue(JavaRenderer.animates(renderer.probe(gif, null), new VariantSpec(1024, VariantFormat.WEBP, false),
      RenderLimits.DEFAULT));
    Nested both = renderInsideTheFirstDecode(gif, List.of(new VariantSpec(1024, VariantFormat.WEBP, false)),
      png, List.of(new VariantSpec(1024, VariantFormat.WEBP, false)));
    List<Rendered> outer = both.outer();
    List<Rendered> inner = both.inner();

    assertEquals(1, inner.size(), "the PNG rendered while the GIF was being decoded");
    assertEquals(1024, read(inner.get(0).bytes()).getWidth());
    assertTrue(outer.get(0).animated());
    Path out = dir.resolve("worst-1024.webp");
    Files.write(out, outer.get(0).bytes());
    assertEquals(new SourceInfo("image/webp", 1024, 1024, 5, 1), ImageHeaders.webpLayout(out).info());
  }

  private record Nested(List<Rendered> outer, List<Rendered> inner) {
  }

  /**
   * Renders {@code outerSpecs} of {@code outer} with the render budget of a 64 MiB heap, and
   * {@code innerSpecs} of {@code inner} from inside the outer one's first decode, so that both are in
   * flight at once. Under a budget too small for both the inner one would wait for the outer for ever,
   * so the room (half the budget) is checked first. Both must give their share back.
   */
  private static Nested renderInsideTheFirstDecode(Path outer, List<VariantSpec> outerSpecs, Path inner,
    List<VariantSpec> innerSpecs) throws Exception {
    long budget = JavaRenderer.heapBudget(64L << 20);
    JavaRenderer[] r = new JavaRenderer[1];
    List<Rendered> inside = new ArrayList<>();
    int[] availableInside = {-1};
    r[0] = new JavaRenderer(raster -> {
      if (availableInside[0] >= 0) {
        return;
      }
      availableInside[0] = r[0].availableHeapKib();
      assertTrue(availableInside[0] >= (int) (budget / 1024) / 2,
        "room for a second render like the first: " + availableInside[0] + " KiB left of " + budget / 1024);
      try {
        inside.addAll(r[0].render(inner, r[0].probe(inner, null), innerSpecs, RenderLimits.DEFAULT));
      } catch (IOException | RenderException e) {
        throw new AssertionError(e);
      }
    }, budget);
    List<Rendered> outside = r[0].render(outer, r[0].probe(outer, null), outerSpecs, RenderLimits.DEFAULT);
    assertEquals((int) (budget / 1024), r[0].availableHeapKib(), "both gave their share back");
    return new Nested(outside, inside);
  }

  @Test
  void twoRendersOf1024PxFromOriginalsBetween1025And4095PxRunAtOnceInTheBudgetOfA64MibHeap() throws Exception {
    // Between 1025 and 4095 px a side no integer subsampling reaches 1024 px: a 2047² 16-bit RGBA PNG
    // decodes 2047² (32 MiB, 48 MiB charged), a 4000×3000 photo 1500² (27 MiB charged), and each ran
    // alone in the 32 MiB budget of a 64 MiB heap. Averaged to 1024² while they are decoded, they take
    // 12.5 and 12.4 MiB: the JPEG is rendered from inside the PNG's decode, so both are in flight at once.
    Path png = dir.resolve("big16.png");
    Files.write(png, io.avatarserver.support.WorstCaseImages.png16(2047));
    Path jpeg = dir.resolve("photo.jpg");
    Files.write(jpeg, io.avatarserver.support.WorstCaseImages.baselineJpeg(4000, 3000));
    Nested both = renderInsideTheFirstDecode(png, List.of(new VariantSpec(1024, VariantFormat.PNG, false)),
      jpeg, List.of(new VariantSpec(1024, VariantFormat.WEBP, false), new VariantSpec(256, VariantFormat.JPEG, false)));
    List<Rendered> outer = both.outer();
    List<Rendered> inner = both.inner();

    assertEquals(2, inner.size(), "the JPEG rendered while the PNG was being decoded");
    BufferedImage photo = read(inner.get(0).bytes());
    assertEquals(1024, photo.getWidth());
    assertEquals(256, read(inner.get(1).bytes()).getWidth());
    // The centre of the 4000×3000 pattern: red and green half way up their gradients, blue stripes of 0
    // and 200 averaged.
    assertColour(photo, 512, 512, 127 << 16 | 127 << 8 | 100, 40, "the photo's centre");
    BufferedImage big = read(outer.get(0).bytes());
    assertEquals(1024, big.getWidth());
    int stripe = big.getRGB(512, 256) & 0xff; // blue: on or beside a stripe
    assertColour(big, 512, 256, io.avatarserver.support.WorstCaseImages.patternPixel(1024, 512, 2047, 2047) & 0xffff00 | stripe, 8,
      "the PNG's gradient");

    // A progressive JPEG of 2047² (4:4:4) the same way: streamed pass by pass, the PNG inside its decode.
    Path progressive = dir.resolve("progressive.jpg");
    Files.write(progressive, io.avatarserver.support.WorstCaseImages.progressiveJpeg(2047));
    Nested again = renderInsideTheFirstDecode(progressive, List.of(new VariantSpec(1024, VariantFormat.WEBP, false)),
      png, List.of(new VariantSpec(1024, VariantFormat.PNG, false)));
    assertEquals(1, again.inner().size(), "the PNG rendered while the progressive JPEG was being decoded");
    assertEquals(1024, read(again.outer().get(0).bytes()).getWidth());

    // What cannot be streamed at 1024 px from 2047²: an interlaced 16-bit PNG (48 MiB decoded whole,
    // more than the 32 MiB budget: it ran a 64 MiB heap out beside the memory proof's uploads) and an
    // animated GIF (a 2047² canvas, 64 MiB at 16 bytes a pixel): each is decoded subsampled by 2 instead
    // (at most half the budget), and the two run at once.
    Path interlaced = dir.resolve("interlaced16.png");
    Files.write(interlaced, io.avatarserver.support.WorstCaseImages.png16Interlaced(2047));
    Path gif = dir.resolve("big.gif");
    Files.write(gif, io.avatarserver.support.WorstCaseImages.gif(2047, 2047, 5));
    Nested whole = renderInsideTheFirstDecode(gif, List.of(new VariantSpec(1024, VariantFormat.WEBP, false)),
      interlaced, List.of(new VariantSpec(1024, VariantFormat.PNG, false)));
    assertEquals(1024, read(whole.inner().get(0).bytes()).getWidth());
    assertTrue(whole.outer().get(0).animated());
    Path out = dir.resolve("big-1024.webp");
    Files.write(out, whole.outer().get(0).bytes());
    assertEquals(new SourceInfo("image/webp", 1024, 1024, 5, 1), ImageHeaders.webpLayout(out).info());
  }

  @Test
  void aStreamedDecodeHoldsOneBandOfRowsAndMatchesAFullDecode() throws Exception {
    Path png = dir.resolve("big16.png");
    Files.write(png, io.avatarserver.support.WorstCaseImages.png16(2047));
    Rendered r = single(png, new VariantSpec(1024, VariantFormat.PNG, false));
    assertEquals((2047 + StreamedDecode.BAND_ROWS - 1) / StreamedDecode.BAND_ROWS, decoded.size(), "one band at a time");
    for (BufferedImage band : decoded) {
      assertEquals(2047, band.getWidth());
      assertTrue(band.getHeight() <= StreamedDecode.BAND_ROWS, "a band of " + band.getHeight() + " rows");
    }
    // The whole square decoded and averaged by the same filter gives the same pixels: nothing is lost
    // between bands. Against the whole square scaled as before (bicubic from 2047 to 1024) the colours
    // differ where the pattern has hard edges (blue stripes of 0 and 200, 16 px wide; a 64 px alpha
    // checkerboard), where a box filter and a bicubic one differ most: measured 5.8 (blue), 0.1
    // (green, red) and 1.3 (alpha) on average of 255.
    BufferedImage whole = Pixels.ownArgb(ImageIO.read(png.toFile()));
    StreamedDecode.Averager averager = new StreamedDecode.Averager(2047, 1024);
    for (int y = 0; y < 2047; y++) {
      averager.row(Pixels.data(whole), y * 2047);
    }
    BufferedImage variant = read(r.bytes());
    double[] same = meanAbsoluteDifference(variant, averager.finish());
    double[] before = meanAbsoluteDifference(variant, Pixels.scale(whole, 1024));
    for (int c = 0; c < 4; c++) {
      assertTrue(same[c] < 0.01, "channel " + c + " against the whole square averaged: " + same[c]);
      assertTrue(before[c] < (c == 0 ? 8 : 2), "channel " + c + " against the whole square scaled: " + before[c]);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"alpha.png", "deep16.png", "palette.png", "gray.png", "baseline.jpg", "rotated6.jpg"})
  void averagingWhileDecodingGivesWhatAFullDecodeScaledGives(String fixture) throws Exception {
    // Each kind of reader StreamedDecode takes (8- and 16-bit, palette, grey, alpha; JPEG), on the
    // fixtures (300×200: their 200² centre square, averaged to 150²), against a full decode scaled by
    // the renderer's chain; averaged in premultiplied space, so no dark fringes around alpha.png's hole.
    Path file = fixture("variants/" + fixture);
    SourceInfo info = renderer.probe(file, null);
    assertEquals(ImageHeaders.RowOrder.ROWS, ImageHeaders.rowOrder(file), fixture);
    int side = Math.min(info.width(), info.height());
    java.awt.Rectangle square = new java.awt.Rectangle((info.width() - side) / 2, (info.height() - side) / 2, side, side);
    BufferedImage streamed;
    BufferedImage whole;
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      ImageReader reader = ImageIO.getImageReaders(in).next();
      reader.setInput(in);
      javax.imageio.ImageReadParam param = reader.getDefaultReadParam();
      param.setSourceRegion(square);
      streamed = StreamedDecode.read(reader, param, side, 150, false, decoded::add);
      whole = Pixels.scale(Pixels.ownArgb(reader.read(0, param)), 150);
      reader.dispose();
    }
    assertTrue(decoded.stream().allMatch(band -> band.getHeight() <= StreamedDecode.BAND_ROWS));
    double[] mad = meanAbsoluteDifference(streamed, whole);
    for (int c = 0; c < 4; c++) {
      assertTrue(mad[c] < 0.5, fixture + ": mean absolute difference of channel " + c + ": " + mad[c]);
    }
  }

  @Test
  void anInterlacedPngIsDecodedWhole() throws Exception {
    // The JDK's PNG reader writes an Adam7-interlaced PNG's rows piecewise over seven passes:
    // StreamedDecode sees a row written after it was averaged. The header says so first: the renderer
    // decodes it whole.
    Path interlaced = dir.resolve("interlaced16.png");
    Files.write(interlaced, io.avatarserver.support.WorstCaseImages.png16Interlaced(1500));
    assertEquals(ImageHeaders.RowOrder.WHOLE, ImageHeaders.rowOrder(interlaced));
    for (boolean passes : new boolean[] {false, true}) {
      try (ImageInputStream in = ImageIO.createImageInputStream(interlaced.toFile())) {
        ImageReader reader = ImageIO.getImageReaders(in).next();
        reader.setInput(in);
        Exception e = assertThrows(Exception.class,
          () -> StreamedDecode.read(reader, reader.getDefaultReadParam(), 1500, 1024, passes, band -> { }));
        assertTrue(StreamedDecode.outOfOrder(e), "passes " + passes + ": " + e);
        reader.dispose();
      }
    }
    decoded.clear();
    BufferedImage img = read(single(interlaced, new VariantSpec(1024, VariantFormat.PNG, false)).bytes());
    assertEquals(1024, img.getWidth());
    assertEquals(List.of(1500), decoded.stream().map(BufferedImage::getHeight).toList(), "decoded whole");
  }

  @Test
  void aProgressiveJpegIsStreamedPassByPassAndEndsAsItsLastPass() throws Exception {
    // The JDK's JPEG reader (TwelveMonkeys hands it the YCbCr ones) writes a progressive JPEG whole once
    // per scan, each time from row 0: taken as rows alone it is out of order; taken as passes, each new
    // pass starts the average again and the last one is the image, one band held at a time.
    Path progressive = dir.resolve("progressive.jpg");
    Files.write(progressive, io.avatarserver.support.WorstCaseImages.progressiveJpeg(1500));
    assertEquals(ImageHeaders.RowOrder.PASSES, ImageHeaders.rowOrder(progressive));
    BufferedImage whole;
    BufferedImage streamed;
    try (ImageInputStream in = ImageIO.createImageInputStream(progressive.toFile())) {
      ImageReader reader = ImageIO.getImageReaders(in).next();
      reader.setInput(in);
      Exception e = assertThrows(Exception.class,
        () -> StreamedDecode.read(reader, reader.getDefaultReadParam(), 1500, 1024, false, band -> { }));
      assertTrue(StreamedDecode.outOfOrder(e), e.toString());
      List<BufferedImage> bands = new ArrayList<>();
      streamed = StreamedDecode.read(reader, reader.getDefaultReadParam(), 1500, 1024, true, bands::add);
      assertTrue(bands.size() > 2 * ((1500 + StreamedDecode.BAND_ROWS - 1) / StreamedDecode.BAND_ROWS),
        "more than one pass: " + bands.size() + " bands");
      assertTrue(bands.stream().allMatch(band -> band.getHeight() <= StreamedDecode.BAND_ROWS));
      whole = Pixels.ownArgb(reader.read(0, reader.getDefaultReadParam()));
      reader.dispose();
    }
    // The last pass is the finished image: the same as the whole decode averaged by the same filter.
    StreamedDecode.Averager averager = new StreamedDecode.Averager(1500, 1024);
    int[] px = Pixels.data(whole);
    for (int y = 0; y < 1500; y++) {
      averager.row(px, y * 1500);
    }
    double[] mad = meanAbsoluteDifference(streamed, averager.finish());
    for (int c = 0; c < 4; c++) {
      assertTrue(mad[c] < 0.01, "channel " + c + " against the whole decode averaged: " + mad[c]);
    }
    // Through the renderer: streamed, charged at the kept square.
    decoded.clear();
    BufferedImage img = read(single(progressive, new VariantSpec(1024, VariantFormat.PNG, false)).bytes());
    assertEquals(1024, img.getWidth());
    assertTrue(decoded.stream().allMatch(band -> band.getHeight() <= StreamedDecode.BAND_ROWS), "never decoded whole");
  }

  @Test
  void aReaderFoundWritingOutOfOrderIsDecodedWholeAtTheFullCharge() throws Exception {
    // A reader the header said streams but that writes a row again: the render gives its streamed
    // share back, takes the full decode's and decodes the square whole. Simulated from inside the
    // first band, where StreamedDecode itself throws it.
    Path png = dir.resolve("big16.png");
    Files.write(png, io.avatarserver.support.WorstCaseImages.png16(2047));
    JavaRenderer[] r = new JavaRenderer[1];
    List<Integer> heights = new ArrayList<>();
    List<Integer> available = new ArrayList<>();
    r[0] = new JavaRenderer(raster -> {
      heights.add(raster.getHeight());
      available.add(r[0].availableHeapKib());
      if (heights.size() == 1) {
        throw new StreamedDecode.OutOfOrder(0, StreamedDecode.BAND_ROWS);
      }
    }, 64L << 20);
    Rendered out = r[0].render(png, r[0].probe(png, null), List.of(new VariantSpec(1024, VariantFormat.PNG, false)),
      RenderLimits.DEFAULT).get(0);
    // Whole, 2047² × 12 bytes would be 48 MiB, more than half the budget: decoded subsampled by 2, 1024².
    assertEquals(List.of(StreamedDecode.BAND_ROWS, 1024), heights);
    int streamedKib = (int) ((1024L * 1024 * JavaRenderer.BYTES_PER_DECODED_PIXEL + StreamedDecode.bandBytes(2047, 1024)) / 1024);
    assertEquals(List.of(64 * 1024 - streamedKib, 64 * 1024 - 1024 * 1024 * 12 / 1024), available);
    assertEquals(1024, read(out.bytes()).getWidth());
    assertEquals(64 * 1024, r[0].availableHeapKib());
  }

  @Test
  void aTruncatedOriginalIsRefusedWhenStreamedToo() throws Exception {
    // The PNG reader fails at the end of the data; the JPEG reader warns and would fill the rest grey.
    for (byte[] whole : List.of(io.avatarserver.support.WorstCaseImages.png16(2047),
      io.avatarserver.support.WorstCaseImages.baselineJpeg(1500, 1500))) {
      Path cut = dir.resolve("cut");
      Files.write(cut, Arrays.copyOf(whole, whole.length * 2 / 3));
      assertEquals(ImageHeaders.RowOrder.ROWS, ImageHeaders.rowOrder(cut));
      SourceInfo info = renderer.probe(cut, null);
      decoded.clear();
      assertThrows(RenderException.class, () -> renderer.render(cut, info,
        List.of(new VariantSpec(1024, VariantFormat.PNG, false)), RenderLimits.DEFAULT));
      assertFalse(decoded.isEmpty(), "bands were averaged before the data ended");
      assertTrue(decoded.stream().allMatch(band -> band.getHeight() <= StreamedDecode.BAND_ROWS), "streamed");
    }
  }

  @Test
  void aLargeWebpIsCroppedAndScaledByLibwebp() throws Exception {
    // 1200×1200 WebP made here from the JPEG fixture through the renderer itself.
    Path big = dir.resolve("big.webp");
    Files.write(big, single("images/large-1200.jpg", new VariantSpec(1200, VariantFormat.WEBP, false)).bytes());
    decoded.clear();
    Rendered r = single(big, new VariantSpec(100, VariantFormat.PNG, false));
    assertEquals(100, read(r.bytes()).getWidth());
    assertTrue(decoded.get(0).getWidth() <= 200, "decoded " + decoded.get(0).getWidth());

    // 1500² at 1024 px: libwebp's rescaler averages to 1024² as it decodes, not to the 1500² decode.
    Files.write(big, io.avatarserver.support.WorstCaseImages.losslessWebp(1500));
    decoded.clear();
    assertEquals(1024, read(single(big, new VariantSpec(1024, VariantFormat.WEBP, false)).bytes()).getWidth());
    assertEquals(List.of(1024), decoded.stream().map(BufferedImage::getWidth).toList());
  }

  @Test
  void aWebpFileIsChargedButDoesNotMakeItsDecodeCoarser() throws Exception {
    // The reader holds the file whatever the subsampling: fit() keeps the decode at what the target
    // needs (1200² at 512 px: 600², 12 bytes a pixel) when only the file tips it past half the budget.
    Path big = dir.resolve("big.webp");
    Files.write(big, single("images/large-1200.jpg", new VariantSpec(1200, VariantFormat.WEBP, false)).bytes());
    long pixels = 600L * 600 * JavaRenderer.BYTES_PER_DECODED_PIXEL;
    assertTrue(Files.size(big) > 4096, "a file of " + Files.size(big) + " bytes");
    List<Integer> widths = new ArrayList<>();
    JavaRenderer tight = new JavaRenderer(raster -> widths.add(raster.getWidth()), 2 * pixels + 4096);
    Rendered r = tight.render(big, tight.probe(big, null), List.of(new VariantSpec(512, VariantFormat.PNG, false)),
      RenderLimits.DEFAULT).get(0);
    assertEquals(List.of(600), widths);
    assertEquals(512, read(r.bytes()).getWidth());
  }

  @Test
  void beyondTheSourcePixelLimitIsRefusedBeforeDecoding() throws Exception {
    for (String fixture : List.of("hostile/pixel-flood-100000x100000.png", "hostile/pixel-flood-65535x8191.gif",
      "hostile/pixel-flood-16384.webp")) {
      Path file = fixture(fixture);
      RenderException e = assertThrows(RenderException.class, () -> renderer.render(file,
        renderer.probe(file, null), List.of(new VariantSpec(64, VariantFormat.PNG, false)), RenderLimits.DEFAULT),
        fixture);
      assertTrue(e.getMessage().contains("more than"), e.getMessage());
    }
    assertTrue(decoded.isEmpty());
    // The engine checks the header itself: an info understating the size does not get past it.
    Path file = fixture("variants/baseline.jpg");
    SourceInfo lie = new SourceInfo("image/jpeg", 10, 10, 1, 1);
    assertThrows(RenderException.class, () -> renderer.render(file, lie,
      List.of(new VariantSpec(64, VariantFormat.PNG, false)), new RenderLimits(300 * 200 - 1, 100, 1 << 20, RenderLimits.DEFAULT.maxAnimationSourcePixels())));
  }

  @Test
  void aGifFrameBeyondTheSourcePixelLimitIsRefusedEvenOnASmallCanvas() throws Exception {
    // A 16×16 screen whose only frame claims 20000×20000 pixels (its LZW data is just clear + end).
    byte[] gif = {'G', 'I', 'F', '8', '9', 'a', 16, 0, 16, 0, (byte) 0x80, 0, 0, 0, 0, 0, -1, -1, -1,
      0x2C, 0, 0, 0, 0, 0x20, 0x4E, 0x20, 0x4E, 0, 2, 1, 0x2C, 0, 0x3B};
    Path file = dir.resolve("tall-frame.gif");
    Files.write(file, gif);
    SourceInfo info = renderer.probe(file, "image/gif");
    assertEquals(new SourceInfo("image/gif", 16, 16, 1, 1), info);
    RenderException e = assertThrows(RenderException.class, () -> renderer.render(file, info,
      List.of(new VariantSpec(16, VariantFormat.GIF, true)), new RenderLimits(1 << 20, 100, 1 << 20, RenderLimits.DEFAULT.maxAnimationSourcePixels())));
    assertTrue(e.getMessage().contains("20000x20000"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"hostile/truncated.jpg", "hostile/fifty-bytes.png", "variants/alpha.png", "variants/animated.gif",
    "variants/lossy.webp", "variants/progressive.jpg"})
  void truncatedFilesAreRefused(String fixture) throws Exception {
    byte[] whole = Files.readAllBytes(fixture(fixture));
    Path cut = dir.resolve("cut");
    Files.write(cut, fixture.startsWith("hostile") ? whole : Arrays.copyOf(whole, whole.length * 2 / 3));
    assertThrows(RenderException.class, () -> {
      SourceInfo info = renderer.probe(cut, null);
      renderer.render(cut, info, List.of(new VariantSpec(64, VariantFormat.PNG, false)), RenderLimits.DEFAULT);
    }, fixture);
  }

  @Test
  void garbageAfterAValidHeaderIsRefused() throws Exception {
    for (String fixture : List.of("variants/alpha.png", "variants/baseline.jpg", "variants/lossy.webp")) {
      byte[] bytes = Files.readAllBytes(fixture(fixture));
      byte[] junk = new byte[bytes.length];
      new java.util.Random(19).nextBytes(junk);
      int keep = fixture.endsWith(".webp") ? 30 : fixture.endsWith(".png") ? 33 : 200;
      System.arraycopy(bytes, 0, junk, 0, keep);
      Path file = dir.resolve("junk");
      Files.write(file, junk);
      assertThrows(RenderException.class, () -> renderer.render(file, renderer.probe(file, null),
        List.of(new VariantSpec(64, VariantFormat.PNG, false)), RenderLimits.DEFAULT), fixture);
    }
  }

  // ------------------------------------------------------------------ animation

  @ParameterizedTest
  @ValueSource(strings = {"variants/animated.gif", "variants/animated.webp"})
  void animationIsKeptUnderTheCapWithFramesCompositedDelaysAndLoop(String fixture) throws Exception {
    Rendered gif = single(fixture, new VariantSpec(64, VariantFormat.GIF, false));
    assertTrue(gif.animated());
    List<Frame> frames = gifFrames(gif.bytes());
    assertEquals(3, frames.size());
    for (Frame f : frames) {
      assertEquals(64, f.image.getWidth());
      assertEquals(100, f.delayMs);
    }
    assertTrue(new String(gif.bytes(), StandardCharsets.ISO_8859_1).contains("NETSCAPE2.0"), "loop count kept");
    // Centre square of the 120×80 canvas is x 20..100: frame 2 adds green at 50..70 x 30..50 (centre),
    // frame 3 blue at 10..30 x 10..30 (partly inside, at the left), and frame 2's green stays.
    assertColour(frames.get(0).image, 32, 32, RED, 40, "frame 1");
    assertColour(frames.get(1).image, 32, 32, GREEN, 40, "frame 2 centre");
    assertColour(frames.get(1).image, 4, 4, RED, 40, "frame 2 corner");
    assertColour(frames.get(2).image, 3, 16, BLUE, 40, "frame 3 left");
    assertColour(frames.get(2).image, 32, 32, GREEN, 40, "frame 3 keeps frame 2");

    Rendered webp = single(fixture, new VariantSpec(64, VariantFormat.WEBP, false));
    assertTrue(webp.animated());
    Path out = dir.resolve("out.webp");
    Files.write(out, webp.bytes());
    ImageHeaders.WebpLayout layout = ImageHeaders.webpLayout(out);
    assertEquals(new SourceInfo("image/webp", 64, 64, 3, 1), layout.info());
    assertEquals(0, layout.loops());
    for (ImageHeaders.WebpFrame f : layout.frames()) {
      assertEquals(64, f.width());
      assertEquals(100, f.durationMs());
    }
    // Its frames decode (by libwebp) to what the GIF shows.
    List<Frame> again = gifFrames(single(out, new VariantSpec(64, VariantFormat.GIF, false)).bytes());
    assertColour(again.get(1).image, 32, 32, GREEN, 40, "WebP frame 2");
    assertColour(again.get(2).image, 3, 16, BLUE, 40, "WebP frame 3");
  }

  @Test
  void theFirstFrameAboveTheCapForStillFormatsAndOnRequest() throws Exception {
    Rendered many = single("variants/many-frames.gif", new VariantSpec(16, VariantFormat.GIF, false));
    assertFalse(many.animated(), "120 frames > 100");
    assertEquals(1, gifFrames(many.bytes()).size());
    assertColour(read(many.bytes()), 8, 8, BLUE, 10, "first frame");

    Path file = fixture("variants/animated.gif");
    SourceInfo info = renderer.probe(file, "image/gif");
    // 3 frames of 64² = 12288 pixels: one pixel less is over the cap.
    List<Rendered> out = renderer.render(file, info, List.of(new VariantSpec(64, VariantFormat.GIF, false),
      new VariantSpec(32, VariantFormat.GIF, false)), new RenderLimits(1 << 20, 100, 3 * 64 * 64 - 1, RenderLimits.DEFAULT.maxAnimationSourcePixels()));
    assertFalse(out.get(0).animated());
    assertEquals(1, gifFrames(out.get(0).bytes()).size());
    assertTrue(out.get(1).animated(), "3 × 32² is under the cap");
    assertEquals(3, gifFrames(out.get(1).bytes()).size());

    Rendered first = single("variants/animated.gif", new VariantSpec(64, VariantFormat.GIF, true));
    assertFalse(first.animated());
    assertEquals(1, gifFrames(first.bytes()).size());
    Rendered png = single("variants/animated.webp", new VariantSpec(64, VariantFormat.PNG, false));
    assertFalse(png.animated());
    assertColour(read(png.bytes()), 32, 32, RED, 40, "first frame of the WebP");
  }

  // ------------------------------------------------------------------ helpers

  private SourceInfo probe(String fixture) throws Exception {
    return renderer.probe(fixture(fixture), null);
  }

  private Rendered single(String fixture, VariantSpec spec) throws Exception {
    return single(fixture(fixture), spec);
  }

  private Rendered single(Path file, VariantSpec spec) throws Exception {
    List<Rendered> out = renderer.render(file, renderer.probe(file, null), List.of(spec), RenderLimits.DEFAULT);
    assertEquals(1, out.size());
    assertNotNull(out.get(0).bytes());
    return out.get(0);
  }

  private Path fixture(String name) throws IOException {
    Path file = dir.resolve(name.replace('/', '_'));
    if (!Files.exists(file)) {
      try (InputStream in = JavaRendererTest.class.getResourceAsStream("/fixtures/" + name)) {
        assertNotNull(in, name);
        Files.copy(in, file);
      }
    }
    return file;
  }

  private static BufferedImage read(byte[] bytes) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
    assertNotNull(img, "decodable output");
    return img;
  }

  private static void assertColour(BufferedImage img, int x, int y, int rgb, int tolerance, String what) {
    int p = img.getRGB(x, y);
    for (int shift = 0; shift <= 16; shift += 8) {
      int got = p >> shift & 0xff;
      int want = rgb >> shift & 0xff;
      assertTrue(Math.abs(got - want) <= tolerance,
        what + String.format(": pixel (%d,%d) is %06x, expected about %06x", x, y, p & 0xffffff, rgb));
    }
  }

  /** Mean absolute difference per channel (blue, green, red, alpha) of two images of one size, as straight ARGB. */
  private static double[] meanAbsoluteDifference(BufferedImage a, BufferedImage b) {
    assertEquals(a.getWidth(), b.getWidth());
    double[] sum = new double[4];
    for (int y = 0; y < a.getHeight(); y++) {
      for (int x = 0; x < a.getWidth(); x++) {
        int p = a.getRGB(x, y);
        int q = b.getRGB(x, y);
        for (int c = 0; c < 4; c++) {
          sum[c] += Math.abs((p >> 8 * c & 0xff) - (q >> 8 * c & 0xff));
        }
      }
    }
    for (int c = 0; c < 4; c++) {
      sum[c] /= (double) a.getWidth() * a.getHeight();
    }
    return sum;
  }

  private static void assertNotBlueEdges(BufferedImage img, String what) {
    for (int y = 0; y < img.getHeight(); y += 7) {
      for (int x : new int[] {0, img.getWidth() - 1}) {
        int p = img.getRGB(x, y);
        boolean blue = (p & 0xff) > 160 && (p >> 16 & 0xff) < 100 && (p >> 8 & 0xff) < 100;
        assertFalse(blue, what + ": blue (outside the centre square) at " + x + "," + y);
      }
    }
  }

  private record Frame(BufferedImage image, int delayMs) {
  }

  /** A GIF's frames as the JDK decodes them (each output frame is a full canvas), with their delays. */
  private static List<Frame> gifFrames(byte[] gif) throws IOException {
    List<Frame> frames = new ArrayList<>();
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(gif))) {
      ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
      reader.setInput(in);
      int n = reader.getNumImages(true);
      for (int i = 0; i < n; i++) {
        IIOMetadataNode root = (IIOMetadataNode) reader.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0");
        int delay = 0;
        for (Node c = root.getFirstChild(); c != null; c = c.getNextSibling()) {
          if (c.getNodeName().equals("GraphicControlExtension")) {
            delay = Integer.parseInt(c.getAttributes().getNamedItem("delayTime").getNodeValue()) * 10;
          }
        }
        frames.add(new Frame(reader.read(i), delay));
      }
      reader.dispose();
    }
    return frames;
  }

  private static List<Integer> jpegAppMarkers(byte[] b) {
    List<Integer> markers = new ArrayList<>();
    int i = 2;
    while (i + 4 <= b.length && (b[i] & 0xff) == 0xFF) {
      int m = b[i + 1] & 0xff;
      if (m == 0xDA) {
        break;
      }
      if (m >= 0xE0 && m <= 0xEF || m == 0xFE) {
        markers.add(m);
      }
      i += 2 + ((b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff));
    }
    return markers;
  }

  private static List<String> pngChunks(byte[] b) {
    List<String> chunks = new ArrayList<>();
    int i = 8;
    while (i + 8 <= b.length) {
      int len = (b[i] & 0xff) << 24 | (b[i + 1] & 0xff) << 16 | (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff);
      chunks.add(new String(b, i + 4, 4, StandardCharsets.ISO_8859_1));
      i += 12 + len;
    }
    return chunks;
  }

  /** A transparent RGBA PNG written row by row: 64 MiB of pixels in a file of about 65 KB. */
  static void writeBlankRgbaPng(Path file, int width, int height) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
      java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 6).put((byte) 0).put((byte) 0).put((byte) 0);
      chunk(out, "IHDR", ihdr.array());
      java.io.ByteArrayOutputStream idat = new java.io.ByteArrayOutputStream();
      try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(9))) {
        byte[] row = new byte[1 + width * 4];
        for (int y = 0; y < height; y++) {
          z.write(row);
        }
      }
      chunk(out, "IDAT", idat.toByteArray());
      chunk(out, "IEND", new byte[0]);
    }
  }

  private static void chunk(OutputStream out, String type, byte[] data) throws IOException {
    byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
    out.write(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
    out.write(t);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  @Test
  void theBombHelperWritesAValidPng() throws Exception {
    Path small = dir.resolve("small.png");
    writeBlankRgbaPng(small, 8, 4);
    BufferedImage img = ImageIO.read(small.toFile());
    assertArrayEquals(new int[] {8, 4}, new int[] {img.getWidth(), img.getHeight()});
  }
}
