package io.avatarserver.variant.vips;

import static io.avatarserver.variant.vips.VipsSupport.fixture;
import static io.avatarserver.variant.vips.VipsSupport.load;
import static io.avatarserver.variant.vips.VipsSupport.own;
import static io.avatarserver.variant.vips.VipsSupport.vips;
import static io.avatarserver.variant.vips.VipsSupport.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import io.avatarserver.variant.RenderException;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Native memory: bounded during a render, and all of it given back after. */
class VipsMemoryTest {

  private static VipsRenderer renderer;

  @TempDir
  Path dir;

  @BeforeAll
  static void engine() {
    renderer = new VipsRenderer(vips());
  }

  /**
   * A 4000×3000 JPEG and a 2000×2000 PNG with alpha rendered to 256 px: libvips' pixel memory stays
   * well under a whole decode. The high-water mark is process-wide (it also covers the fixtures made
   * here and every render before, all smaller).
   */
  @Test
  void aLargeOriginalIsNeverDecodedWhole() throws Exception {
    Path jpeg = dir.resolve("big.jpg");
    Path png = dir.resolve("big.png");
    Pointer source = load(fixture("images/large-1200.jpg"));
    PointerByReference big = new PointerByReference();
    try {
      assertEquals(0, vips().lib().vips_resize(source, big, 4000 / 1200.0, "vscale", 3000 / 1200.0, Vips.END));
      write(big.getValue(), jpeg);
      PointerByReference square = new PointerByReference();
      assertEquals(0, vips().lib().vips_resize(source, square, 2000 / 1200.0, Vips.END));
      PointerByReference alpha = new PointerByReference();
      assertEquals(0, vips().lib().vips_bandjoin_const1(square.getValue(), alpha, 200.0, Vips.END));
      write(alpha.getValue(), png);
      vips().lib().g_object_unref(alpha.getValue());
      vips().lib().g_object_unref(square.getValue());
    } finally {
      if (big.getValue() != null) {
        vips().lib().g_object_unref(big.getValue());
      }
      vips().lib().g_object_unref(source);
    }
    assertEquals(new SourceInfo("image/jpeg", 4000, 3000, 1, 1), renderer.probe(jpeg, null));
    assertEquals(new SourceInfo("image/png", 2000, 2000, 1, 1), renderer.probe(png, null));

    // JPEG: shrink-on-load (1/8 here), so far less than the whole image.
    render256(jpeg);
    long jpegHighWater = vips().lib().vips_tracked_get_mem_highwater();
    assertTrue(jpegHighWater < 36_000_000 / 3, "a 4000×3000 JPEG took " + jpegHighWater + " bytes of pixels");
    // PNG with alpha: no shrink-on-load; libvips 8.14 streams it in strips, premultiplied as float (16
    // bytes a pixel): far less than the whole float image (64 MB), though more than its 16 MB of bytes.
    render256(png);
    long pngHighWater = vips().lib().vips_tracked_get_mem_highwater();
    assertTrue(pngHighWater < 64_000_000 * 2 / 3, "a 2000×2000 RGBA PNG took " + pngHighWater + " bytes of pixels");
    System.out.println("pixel memory high-water: JPEG 4000×3000 " + jpegHighWater + ", PNG 2000² RGBA " + pngHighWater);
  }

  private static void render256(Path file) throws Exception {
    SourceInfo info = renderer.probe(file, null);
    List<Rendered> out = renderer.render(file, info, List.of(new VariantSpec(256, VariantFormat.WEBP, false),
      new VariantSpec(64, VariantFormat.PNG, false)), RenderLimits.DEFAULT);
    assertEquals(256, out.get(0).width());
    assertEquals(64, out.get(1).width());
  }

  /** 200 renders (and refusals) leave no VipsObject, no pixel buffer and no RSS behind. */
  @Test
  void noNativeLeakAcross200Renders() throws Exception {
    Vips vips = vips();
    for (int i = 0; i < 5; i++) {
      workload();
    }
    System.gc();
    long objects = vips.liveObjects();
    long memory = vips.trackedMemory();
    int allocations = vips.trackedAllocations();
    long rss = rss();
    for (int i = 0; i < 200; i++) {
      workload();
    }
    System.gc();
    long grown = rss() - rss;
    System.out.println("after 200 renders: " + vips.liveObjects() + " live objects (" + objects + " before), "
      + vips.trackedMemory() + " bytes tracked, RSS " + (grown >> 10) + " KiB more");
    assertEquals(objects, vips.liveObjects(), "VipsObjects left alive");
    assertEquals(memory, vips.trackedMemory(), "pixel memory left allocated");
    assertEquals(allocations, vips.trackedAllocations(), "pixel buffers left allocated");
    // One leaked 512 px PNG buffer or memory image per render would be 80+ MB here.
    assertTrue(grown < 48L << 20, "RSS grew by " + (grown >> 20) + " MB over 200 renders");
  }

  private static void workload() throws Exception {
    Path large = fixture("images/large-1200.jpg");
    render(large, List.of(new VariantSpec(512, VariantFormat.PNG, false),
      new VariantSpec(256, VariantFormat.WEBP, false), new VariantSpec(128, VariantFormat.JPEG, false)));
    render(own("animated.gif"), List.of(new VariantSpec(48, VariantFormat.GIF, false),
      new VariantSpec(32, VariantFormat.WEBP, false), new VariantSpec(20, VariantFormat.PNG, false)));
    render(own("alpha.png"), List.of(new VariantSpec(64, VariantFormat.JPEG, false)));
    // Refusals must free what they opened too.
    assertThrows(RenderException.class, () -> render(fixture("hostile/truncated.jpg"),
      List.of(new VariantSpec(64, VariantFormat.PNG, false))));
    assertThrows(RenderException.class, () -> render(fixture("hostile/pixel-flood-100000x100000.png"),
      List.of(new VariantSpec(64, VariantFormat.PNG, false))));
    assertThrows(RenderException.class, () -> renderer.probe(fixture("hostile/script.svg"), null));
  }

  private static void render(Path file, List<VariantSpec> specs) throws Exception {
    renderer.render(file, renderer.probe(file, null), specs, RenderLimits.DEFAULT);
  }

  private static long rss() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return fail("no VmRSS in /proc/self/status");
  }
}
