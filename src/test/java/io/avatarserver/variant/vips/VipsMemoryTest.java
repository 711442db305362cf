package io.avatarserver.variant.vips;

import static io.avatarserver.variant.vips.VipsSupport.fixture;
import static io.avatarserver.variant.vips.VipsSupport.load;
import static io.avatarserver.variant.vips.VipsSupport.own;
import static io.avatarserver.variant.vips.VipsSupport.vips;
import static io.avatarserver.variant.vips.VipsSupport.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import io.avatarserver.variant.RenderException;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
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

  /**
   * 200 renders (and refusals) leave no VipsObject and no pixel buffer behind (no more than before them), and native
   * memory does not grow with them: the bytes malloc has handed out and not got back (glibc's
   * {@code mallinfo2}, all arenas; the Java heap is not malloc'd) grow by less over the second 100
   * renders than one leaked output buffer or image per render would add (40+ MB). The first 100 absorb
   * the JVM's own growth (JIT, arenas of new threads).
   */
  @Test
  void noNativeLeakAcross200Renders() throws Exception {
    Vips vips = vips();
    for (int i = 0; i < 20; i++) {
      workload();
    }
    long objects = vips.liveObjects();
    long memory = vips.trackedMemory();
    int allocations = vips.trackedAllocations();
    long malloc0 = mallocInUse();
    for (int i = 0; i < 100; i++) {
      workload();
    }
    long malloc1 = mallocInUse();
    for (int i = 0; i < 100; i++) {
      workload();
    }
    long malloc2 = mallocInUse();
    System.out.println("after 200 renders: " + vips.liveObjects() + " live objects (" + objects + " before), "
      + vips.trackedMemory() + " bytes tracked, malloc'd +" + ((malloc1 - malloc0) >> 10)
      + " KiB over the first 100, +" + ((malloc2 - malloc1) >> 10) + " KiB over the second 100");
    // No more than before: a snapshot may catch libvips still releasing what the warm-up renders held
    // (seen once in CI: 119,904 bytes tracked before, 0 after); a leak only ever adds.
    assertTrue(vips.liveObjects() <= objects, "VipsObjects left alive: " + vips.liveObjects() + ", before " + objects);
    assertTrue(vips.trackedMemory() <= memory, "pixel memory left allocated: " + vips.trackedMemory() + ", before " + memory);
    assertTrue(vips.trackedAllocations() <= allocations,
      "pixel buffers left allocated: " + vips.trackedAllocations() + ", before " + allocations);
    assertTrue(malloc2 - malloc1 < 16L << 20, "native memory grew by " + ((malloc2 - malloc1) >> 20)
      + " MB over 100 renders");
  }

  /** {@code struct mallinfo2}: ten size_t. */
  @com.sun.jna.Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
    "uordblks", "fordblks", "keepcost"})
  public static class MallInfo2 extends com.sun.jna.Structure implements com.sun.jna.Structure.ByValue {
    public long arena;
    public long ordblks;
    public long smblks;
    public long hblks;
    public long hblkhd;
    public long usmblks;
    public long fsmblks;
    public long uordblks;
    public long fordblks;
    public long keepcost;
  }

  /** Bytes in use from malloc: in its arenas plus its mmapped chunks (after a GC runs JNA's cleaners). */
  private static long mallocInUse() throws InterruptedException {
    System.gc();
    Thread.sleep(100);
    MallInfo2 info = (MallInfo2) com.sun.jna.NativeLibrary.getInstance("c").getFunction("mallinfo2")
      .invoke(MallInfo2.class, new Object[0]);
    return info.uordblks + info.hblkhd;
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

}
