package io.avatarserver.variant.vips;

import static io.avatarserver.variant.vips.VipsSupport.assertNoMetadataChunks;
import static io.avatarserver.variant.vips.VipsSupport.decode;
import static io.avatarserver.variant.vips.VipsSupport.fixture;
import static io.avatarserver.variant.vips.VipsSupport.own;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.avatarserver.variant.RenderException;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
import io.avatarserver.variant.vips.VipsSupport.Decoded;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The libvips engine on real files. Own fixtures (src/test/resources/io/avatarserver/variant/vips),
 * made with libvips 8.14's command line: {@code animated.gif} / {@code animated.webp} (5 frames of
 * 80×60: red, green, blue, yellow, cyan), {@code frames-120.gif} (120 frames of 16×16),
 * {@code progressive.jpg} (600×400, interlaced), {@code alpha.png} (300×200 red, the left half fully
 * transparent), {@code oriented-6.jpg} (300×200 stored, left half red, right half blue, EXIF
 * orientation 6 added by hand: displayed 200×300, red on top).
 */
class VipsRendererTest {

  private static VipsRenderer renderer;

  @TempDir
  Path dir;

  @BeforeAll
  static void engine() {
    renderer = new VipsRenderer(VipsSupport.vips());
  }

  private static List<Rendered> render(Path file, List<VariantSpec> specs) throws Exception {
    return render(file, specs, RenderLimits.DEFAULT);
  }

  private static List<Rendered> render(Path file, List<VariantSpec> specs, RenderLimits limits) throws Exception {
    SourceInfo info = renderer.probe(file, null);
    return renderer.render(file, info, specs, limits);
  }

  private static List<VariantSpec> everyFormat(int... sizes) {
    List<VariantSpec> specs = new ArrayList<>();
    for (int size : sizes) {
      for (VariantFormat format : VariantFormat.values()) {
        specs.add(new VariantSpec(size, format, false));
      }
    }
    return specs;
  }

  private static final Map<VariantFormat, String> LOADER = Map.of(
    VariantFormat.JPEG, "jpegload", VariantFormat.PNG, "pngload",
    VariantFormat.WEBP, "webpload", VariantFormat.GIF, "gifload");

  @Test
  void probeReadsTheHeaderOfEachKind() throws Exception {
    assertEquals(new SourceInfo("image/jpeg", 1200, 1200, 1, 1),
      renderer.probe(fixture("images/large-1200.jpg"), "image/jpeg"));
    assertEquals(new SourceInfo("image/jpeg", 600, 400, 1, 1), renderer.probe(own("progressive.jpg"), null));
    assertEquals(new SourceInfo("image/jpeg", 300, 200, 1, 6), renderer.probe(own("oriented-6.jpg"), null));
    assertEquals(new SourceInfo("image/png", 300, 200, 1, 1), renderer.probe(own("alpha.png"), "image/png"));
    assertEquals(new SourceInfo("image/webp", 200, 200, 1, 1), renderer.probe(fixture("images/avatar-200.webp"), null));
    assertEquals(new SourceInfo("image/webp", 80, 60, 5, 1), renderer.probe(own("animated.webp"), null));
    assertEquals(new SourceInfo("image/gif", 80, 60, 5, 1), renderer.probe(own("animated.gif"), "image/gif"));
    assertEquals(new SourceInfo("image/gif", 16, 16, 120, 1), renderer.probe(own("frames-120.gif"), null));
    // The header only: a 100000×100000 PNG is described, not decoded.
    assertEquals(new SourceInfo("image/png", 100000, 100000, 1, 1),
      renderer.probe(fixture("hostile/pixel-flood-100000x100000.png"), null));
  }

  @ParameterizedTest
  @ValueSource(strings = {"images/large-1200.jpg", "own:progressive.jpg", "own:alpha.png", "images/avatar-200.png",
    "images/avatar-128.png", "own:animated.gif", "images/avatar-64.gif", "images/avatar-200.webp",
    "own:animated.webp", "own:oriented-6.jpg"})
  void everyKindRendersExactSquaresInEveryFormat(String name) throws Exception {
    Path file = name.startsWith("own:") ? own(name.substring(4)) : fixture(name);
    // 256 upsizes the small originals, 64 and 31 shrink; 31 is odd on purpose.
    List<VariantSpec> specs = everyFormat(256, 64, 31);
    List<Rendered> out = render(file, specs);
    assertEquals(specs.size(), out.size());
    for (int i = 0; i < specs.size(); i++) {
      VariantSpec spec = specs.get(i);
      Rendered r = out.get(i);
      assertEquals(spec, r.spec());
      assertEquals(spec.size(), r.width());
      assertEquals(spec.size(), r.height());
      Decoded d = decode(r.bytes());
      assertTrue(d.loader().startsWith(LOADER.get(spec.format())), name + " " + spec + " is " + d.loader());
      assertEquals(spec.size(), d.width(), name + " " + spec);
      assertEquals(spec.size(), d.pageHeight(), name + " " + spec);
      assertEquals(r.animated() ? 5 : 1, d.pages(), name + " " + spec);
      assertNoMetadataChunks(r.bytes());
    }
  }

  @Test
  void metadataIsStrippedFromEveryFormat() throws Exception {
    Path gps = fixture("images/gps-tagged.jpg");
    assertTrue(new String(VipsSupport.bytes(gps), StandardCharsets.ISO_8859_1).contains("Exif"),
      "the fixture carries EXIF");
    for (Rendered r : render(gps, everyFormat(128))) {
      Decoded d = decode(r.bytes());
      assertFalse(d.exif() || d.xmp() || d.icc() || d.iptc(), r.spec() + " keeps metadata: " + d);
      assertNoMetadataChunks(r.bytes());
    }
    for (Rendered r : render(own("oriented-6.jpg"), everyFormat(50))) {
      Decoded d = decode(r.bytes());
      assertFalse(d.exif(), r.spec() + " keeps EXIF");
      assertTrue(d.orientationField() <= 1, r.spec() + " keeps an orientation " + d.orientationField());
    }
  }

  @Test
  void orientationIsApplied() throws Exception {
    // Stored: left half red, right half blue. Orientation 6 turns it a quarter clockwise: red on top.
    for (Rendered r : render(own("oriented-6.jpg"), List.of(new VariantSpec(100, VariantFormat.PNG, false),
      new VariantSpec(40, VariantFormat.WEBP, false)))) {
      int s = r.width();
      Decoded d = decode(r.bytes(), new int[] {s * 9 / 10, s / 10, 0}, new int[] {s / 10, s * 9 / 10, 0});
      assertRed(d.samples().get(0), "top right of " + r.spec());
      assertBlue(d.samples().get(1), "bottom left of " + r.spec());
    }
  }

  @Test
  void jpegFlattensTransparencyOnWhiteAndPngKeepsIt() throws Exception {
    // 300×200, transparent left of x=150; the centre square is x 50..250: its left quarter is transparent.
    List<Rendered> out = render(own("alpha.png"), List.of(new VariantSpec(100, VariantFormat.JPEG, false),
      new VariantSpec(100, VariantFormat.PNG, false)));
    Decoded jpeg = decode(out.get(0).bytes(), new int[] {5, 50, 0}, new int[] {95, 50, 0});
    assertEquals(3, jpeg.bands());
    for (double v : jpeg.samples().get(0)) {
      assertTrue(v > 245, "transparent is white in JPEG, got " + v);
    }
    assertRed(jpeg.samples().get(1), "opaque part of the JPEG");
    Decoded png = decode(out.get(1).bytes(), new int[] {5, 50, 0}, new int[] {95, 50, 0});
    assertEquals(4, png.bands());
    assertEquals(0, png.samples().get(0)[3], 0.5);
    assertEquals(255, png.samples().get(1)[3], 0.5);
  }

  @Test
  void animationIsKeptInWebpAndGifUnderTheCap() throws Exception {
    for (String name : List.of("animated.gif", "animated.webp")) {
      List<Rendered> out = render(own(name), List.of(
        new VariantSpec(48, VariantFormat.GIF, false),
        new VariantSpec(24, VariantFormat.WEBP, false),
        new VariantSpec(48, VariantFormat.WEBP, true),
        new VariantSpec(64, VariantFormat.PNG, false),
        new VariantSpec(32, VariantFormat.JPEG, false)));
      String[] colours = {"red", "green", "blue", "yellow", "cyan"};
      for (Rendered r : out.subList(0, 2)) {
        assertTrue(r.animated(), name + " " + r.spec());
        int c = r.width() / 2;
        int[][] points = new int[5][];
        for (int page = 0; page < 5; page++) {
          points[page] = new int[] {c, c, page};
        }
        Decoded d = decode(r.bytes(), points);
        assertEquals(5, d.pages(), name + " " + r.spec());
        assertEquals(r.width(), d.pageHeight());
        for (int page = 0; page < 5; page++) {
          assertColour(colours[page], d.samples().get(page), name + " " + r.spec() + " frame " + page);
        }
      }
      // firstFrameOnly, PNG and JPEG: the first frame.
      for (Rendered r : out.subList(2, 5)) {
        assertFalse(r.animated(), name + " " + r.spec());
        Decoded d = decode(r.bytes(), new int[] {r.width() / 2, r.width() / 2, 0});
        assertEquals(1, d.pages(), name + " " + r.spec());
        assertRed(d.samples().get(0), name + " " + r.spec());
      }
    }
  }

  @Test
  void animationOverTheFrameCapIsTheFirstFrame() throws Exception {
    // 120 frames > the default 100.
    List<Rendered> out = render(own("frames-120.gif"), List.of(new VariantSpec(16, VariantFormat.GIF, false),
      new VariantSpec(16, VariantFormat.WEBP, false)));
    for (Rendered r : out) {
      assertFalse(r.animated(), r.spec().toString());
      assertEquals(1, decode(r.bytes()).pages(), r.spec().toString());
    }
    // The same file under a cap of 120 frames keeps them all.
    Rendered all = render(own("frames-120.gif"), List.of(new VariantSpec(16, VariantFormat.GIF, false)),
      new RenderLimits(RenderLimits.DEFAULT.maxSourcePixels(), 120, 16L * 16 * 120, RenderLimits.DEFAULT.maxAnimationSourcePixels())).get(0);
    assertTrue(all.animated());
    assertEquals(120, decode(all.bytes()).pages());
  }

  @Test
  void animationOverThePixelCapIsTheFirstFrame() throws Exception {
    long exact = 40L * 40 * 5;
    RenderLimits under = new RenderLimits(RenderLimits.DEFAULT.maxSourcePixels(), 100, exact, RenderLimits.DEFAULT.maxAnimationSourcePixels());
    RenderLimits over = new RenderLimits(RenderLimits.DEFAULT.maxSourcePixels(), 100, exact - 1, RenderLimits.DEFAULT.maxAnimationSourcePixels());
    VariantSpec spec = new VariantSpec(40, VariantFormat.WEBP, false);
    assertTrue(render(own("animated.webp"), List.of(spec), under).get(0).animated());
    Rendered still = render(own("animated.webp"), List.of(spec), over).get(0);
    assertFalse(still.animated());
    assertEquals(1, decode(still.bytes()).pages());
    // Under one call: the 40 px is over the cap, the 20 px is not.
    List<Rendered> both = render(own("animated.gif"),
      List.of(spec, new VariantSpec(20, VariantFormat.GIF, false)), over);
    assertFalse(both.get(0).animated());
    assertTrue(both.get(1).animated());
    assertEquals(5, decode(both.get(1).bytes()).pages());
    assertEquals(1, decode(both.get(0).bytes()).pages());
  }

  @Test
  void originalsBeyondThePixelLimitAreRefusedBeforeDecoding() throws Exception {
    Path flood = fixture("hostile/pixel-flood-100000x100000.png");
    SourceInfo info = renderer.probe(flood, "image/png");
    RenderException e = assertThrows(RenderException.class, () ->
      renderer.render(flood, info, List.of(new VariantSpec(64, VariantFormat.PNG, false)), RenderLimits.DEFAULT));
    assertTrue(e.getMessage().contains("pixels"), e.getMessage());
    // The engine checks its own reading of the header, not the caller's SourceInfo.
    Path large = fixture("images/large-1200.jpg");
    SourceInfo lie = new SourceInfo("image/jpeg", 10, 10, 1, 1);
    assertThrows(RenderException.class, () -> renderer.render(large, lie,
      List.of(new VariantSpec(64, VariantFormat.PNG, false)), new RenderLimits(1200L * 1200 - 1, 100, 1000, RenderLimits.DEFAULT.maxAnimationSourcePixels())));
    assertEquals(1, renderer.render(large, lie, List.of(new VariantSpec(64, VariantFormat.PNG, false)),
      new RenderLimits(1200L * 1200, 100, 1000, RenderLimits.DEFAULT.maxAnimationSourcePixels())).size());
  }

  @ParameterizedTest
  @ValueSource(strings = {"random-bytes.bin", "html-as-png.png", "fifty-bytes.png", "truncated.jpg",
    "php-with-gif-magic.gif", "pixel-flood-16384.webp", "pixel-flood-65535x8191.gif"})
  void garbageIsARenderException(String name) {
    Path file = fixture("hostile/" + name);
    assertThrows(RenderException.class, () -> {
      SourceInfo info = renderer.probe(file, null);
      renderer.render(file, info, List.of(new VariantSpec(64, VariantFormat.WEBP, false)), RenderLimits.DEFAULT);
    }, name);
  }

  @Test
  void aFileOfAnotherTypeThanDeclaredIsRefused() {
    Path png = own("alpha.png");
    assertThrows(RenderException.class, () -> renderer.probe(png, "image/jpeg"));
    assertThrows(RenderException.class, () -> renderer.probe(png, "image/svg+xml"));
    assertThrows(RenderException.class, () -> renderer.render(png, new SourceInfo("image/gif", 300, 200, 1, 1),
      List.of(new VariantSpec(64, VariantFormat.PNG, false)), RenderLimits.DEFAULT));
  }

  @Test
  void aMissingFileIsAnIoException() {
    assertThrows(NoSuchFileException.class, () -> renderer.probe(dir.resolve("nope.jpg"), null));
  }

  @Test
  void rendersInParallelOnSeveralWorkerThreads() throws Exception {
    List<Path> files = List.of(fixture("images/large-1200.jpg"), own("animated.gif"), own("alpha.png"),
      fixture("images/avatar-200.webp"));
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<List<Rendered>>> futures = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        Path file = files.get(i % files.size());
        futures.add(pool.submit(() -> render(file, everyFormat(96, 40))));
      }
      for (var future : futures) {
        for (Rendered r : future.get()) {
          Decoded d = decode(r.bytes());
          assertEquals(r.spec().size(), d.width());
          assertEquals(r.spec().size(), d.pageHeight());
        }
      }
      // A refusal on one thread does not disturb a render on another.
      var bad = pool.submit(() -> render(fixture("hostile/truncated.jpg"), everyFormat(40)));
      var good = pool.submit(() -> render(fixture("images/avatar-256.jpg"), everyFormat(40)));
      java.util.concurrent.ExecutionException e =
        assertThrows(java.util.concurrent.ExecutionException.class, bad::get);
      assertTrue(e.getCause() instanceof RenderException, e.getCause().toString());
      assertEquals(4, good.get().size());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void namesItself() {
    assertEquals("vips", renderer.name());
    assertTrue(renderer.version().startsWith("8."), renderer.version());
  }

  @Test
  void manySpecsComeBackInTheirOrder() throws Exception {
    List<VariantSpec> specs = List.of(new VariantSpec(32, VariantFormat.PNG, false),
      new VariantSpec(128, VariantFormat.JPEG, false), new VariantSpec(64, VariantFormat.GIF, true),
      new VariantSpec(128, VariantFormat.WEBP, false));
    List<Rendered> out = render(fixture("images/large-1200.jpg"), specs);
    for (int i = 0; i < specs.size(); i++) {
      assertEquals(specs.get(i), out.get(i).spec());
    }
    assertTrue(render(fixture("images/large-1200.jpg"), List.of()).isEmpty());
  }

  static void assertRed(double[] px, String what) {
    assertColour("red", px, what);
  }

  static void assertBlue(double[] px, String what) {
    assertColour("blue", px, what);
  }

  static void assertColour(String colour, double[] px, String what) {
    double[] want = switch (colour) {
      case "red" -> new double[] {255, 0, 0};
      case "green" -> new double[] {0, 255, 0};
      case "blue" -> new double[] {0, 0, 255};
      case "yellow" -> new double[] {255, 255, 0};
      case "cyan" -> new double[] {0, 255, 255};
      default -> throw new IllegalArgumentException(colour);
    };
    for (int i = 0; i < 3; i++) {
      assertTrue(Math.abs(px[i] - want[i]) < 40, what + ": expected " + colour + ", got "
        + java.util.Arrays.toString(px));
    }
  }

  static Path copy(Path from, Path dir, String name) throws IOException {
    return Files.copy(from, dir.resolve(name));
  }
}
