package io.avatarserver.variant.vips;

import static io.avatarserver.variant.vips.VipsSupport.fixture;
import static io.avatarserver.variant.vips.VipsSupport.load;
import static io.avatarserver.variant.vips.VipsSupport.vips;
import static io.avatarserver.variant.vips.VipsSupport.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import io.avatarserver.variant.RenderException;
import io.avatarserver.variant.SourceInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The binding: loading once, and the loaders it leaves open. */
class VipsTest {

  @TempDir
  Path dir;

  @Test
  void loadsOnceAndSaysWhichVersion() throws Exception {
    Vips vips = vips();
    assertSame(vips, Vips.load());
    assertSame(vips, Vips.available().orElseThrow());
    assertTrue(Vips.unavailableReason().isEmpty());
    assertTrue(vips.version().matches("8\\.(1[3-9]|[2-9][0-9])\\.[0-9]+"), vips.version());
  }

  @Test
  void aMissingLibrarySaysHowToInstallIt() {
    VipsUnavailableException e = assertThrows(VipsUnavailableException.class,
      () -> Vips.init(List.of("vips-that-is-not-installed")));
    assertTrue(e.getMessage().startsWith("libvips cannot be loaded"), e.getMessage());
    assertTrue(e.getMessage().contains("apt-get install libvips42"), e.getMessage());
    // A library that is not libvips at all is refused too.
    VipsUnavailableException other = assertThrows(VipsUnavailableException.class,
      () -> Vips.init(List.of("libz.so.1")));
    assertTrue(other.getMessage().contains("not libvips"), other.getMessage());
  }

  @Test
  void libvipsWarningsGoToTheLogNotStderr() throws Exception {
    VipsRenderer renderer = new VipsRenderer(vips());
    ch.qos.logback.classic.Logger logger =
      (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Vips.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
      new ch.qos.logback.core.read.ListAppender<>();
    events.start();
    ch.qos.logback.classic.Level level = logger.getLevel();
    logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
    logger.addAppender(events);
    try {
      // A truncated JPEG: libjpeg warns ("Premature end of JPEG file") before the render is refused.
      Path truncated = fixture("hostile/truncated.jpg");
      assertThrows(RenderException.class, () -> renderer.render(truncated, renderer.probe(truncated, null),
        List.of(new io.avatarserver.variant.VariantSpec(64, io.avatarserver.variant.VariantFormat.PNG, false)),
        io.avatarserver.variant.RenderLimits.DEFAULT));
    } finally {
      logger.detachAppender(events);
      logger.setLevel(level);
    }
    assertTrue(events.list.stream().anyMatch(e -> e.getFormattedMessage().startsWith("libvips: ")),
      "libvips' warnings reach the logger: " + events.list);
  }

  @Test
  void countsLiveObjects() {
    Vips vips = vips();
    long before = vips.liveObjects();
    Pointer image = load(fixture("images/avatar-256.jpg"));
    assertTrue(vips.liveObjects() > before, "an open image is a live object");
    vips.lib().g_object_unref(image);
    assertEquals(before, vips.liveObjects());
  }

  /**
   * Formats libvips could read but the engine must not: each is refused while blocked, and (for the
   * ones whose loader can be switched back on for a moment) read once unblocked, which proves that the
   * block, not the file, is what refuses it.
   */
  @Test
  void onlyJpegPngWebpAndGifLoadersAreOpen() throws Exception {
    VipsRenderer renderer = new VipsRenderer(vips());
    Pointer small = load(fixture("images/avatar-128.png"));
    Path tiff = dir.resolve("image.tif");
    Path vipsFile = dir.resolve("image.v");
    Path ppm = dir.resolve("image.ppm");
    try {
      write(small, tiff);
      write(small, vipsFile);
      write(small, ppm);
    } finally {
      vips().lib().g_object_unref(small);
    }
    Path matrix = Files.writeString(dir.resolve("m.mat"), "2 2\n1 2\n3 4\n", StandardCharsets.US_ASCII);
    Path pdf = Files.writeString(dir.resolve("doc.pdf"), minimalPdf(), StandardCharsets.US_ASCII);
    Path svg = fixture("hostile/script.svg");

    for (Path file : List.of(tiff, vipsFile, ppm, matrix, pdf, svg)) {
      RenderException e = assertThrows(RenderException.class, () -> renderer.probe(file, null), file.toString());
      assertTrue(e.getMessage().contains("not a JPEG, PNG, WebP or GIF"), file + ": " + e.getMessage());
    }
    // Below the engine's own check, libvips refuses them too: their loaders are blocked.
    for (Path file : List.of(tiff, vipsFile, ppm, matrix, pdf, svg)) {
      assertTrue(openHeader(file) == null, "libvips opened " + file + " despite the blocks");
      String error = vips().takeError();
      assertTrue(error.contains("blocked") || error.contains("not a known file format"), file + ": " + error);
    }

    // Switched on for a moment, a blocked loader does read the same file: the block is what refused it.
    for (var unblock : List.of(List.of("VipsForeignLoadTiff", tiff), List.of("VipsForeignLoadSvg", svg),
      List.of("VipsForeignLoadVips", vipsFile))) {
      String loader = (String) unblock.get(0);
      Path file = (Path) unblock.get(1);
      vips().lib().vips_operation_block_set(loader, 0);
      try {
        Pointer image = openHeader(file);
        assertTrue(image != null, loader + " reads " + file + " when unblocked: " + vips().takeError());
        vips().lib().g_object_unref(image);
        // Even then the engine refuses it, from its first bytes. (libvips' own .v format names the
        // loader recorded in the file, here pngload: the engine does not trust that name alone.)
        assertThrows(RenderException.class, () -> renderer.probe(file, null), file.toString());
      } finally {
        vips().lib().vips_operation_block_set(loader, 1);
      }
      assertTrue(openHeader(file) == null, loader + " is blocked again");
      vips().takeError();
    }

    // The four open ones still read.
    assertEquals(new SourceInfo("image/png", 128, 128, 1, 1), renderer.probe(fixture("images/avatar-128.png"), null));
  }

  /** The header read the engine does, straight on libvips: NULL when refused. */
  private static Pointer openHeader(Path file) {
    Pointer source = vips().lib().vips_source_new_from_file(file.toString());
    try {
      return vips().openHeader(source);
    } finally {
      vips().lib().g_object_unref(source);
    }
  }

  private static String minimalPdf() {
    return "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
      + "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
      + "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 64 64]>>endobj\n"
      + "trailer<</Root 1 0 R>>\n%%EOF\n";
  }
}
