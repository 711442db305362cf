import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
import io.avatarserver.variant.vips.Vips;
import io.avatarserver.variant.vips.VipsLib;
import io.avatarserver.variant.vips.VipsRenderer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * libvips render engine benchmark: p50/p99 of one render (probe + render of one WebP variant) at 64 and
 * 256 px per kind of original, cold and warm, on one thread.
 *
 * <pre>
 *   mvn -q -o compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 *   java -cp target/classes:$(cat target/classpath.txt) \
 *     src/load/variants/VipsBench.java [--runs 30] [--warmup 3] [--cold 5] [--format webp]
 * </pre>
 *
 * Run from the project root (needs libvips: apt-get install libvips42). The originals are made by
 * libvips into a temporary folder from src/test/resources/fixtures/images/large-1200.jpg: a
 * 4000×3000 baseline JPEG (Q90), the same progressive, the same as CMYK with its ICC profile, a
 * 2000×2000 PNG with alpha, a 2000×2000 WebP, and 40-frame 320×240 animated GIF and WebP (each
 * frame a different window of the photo).
 * <b>warm</b>: {@code --runs} renders after {@code --warmup}, in this process. <b>cold</b>: the first
 * render in a new JVM (JIT, libvips' first use of that loader and saver; the file is in the page
 * cache), {@code --cold} new JVMs per case. libvips runs with concurrency 1 and no cache (as in the
 * server).
 */
public final class VipsBench {

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = options(args);
    if (opt.containsKey("one")) {
      // Child: one cold render, prints its milliseconds.
      String[] what = opt.get("one").split(",");
      System.out.println(renderOnce(Path.of(what[0]), Integer.parseInt(what[1]), VariantFormat.named(what[2]).orElseThrow()));
      return;
    }
    int runs = Integer.parseInt(opt.getOrDefault("runs", "30"));
    int warmup = Integer.parseInt(opt.getOrDefault("warmup", "3"));
    int cold = Integer.parseInt(opt.getOrDefault("cold", "5"));
    VariantFormat format = VariantFormat.named(opt.getOrDefault("format", "webp")).orElseThrow();

    Vips vips = Vips.load();
    Path dir = Files.createTempDirectory("vips-bench");
    Map<String, Path> originals = makeOriginals(vips, dir);
    System.out.printf("libvips %s, %s output, warm: %d runs after %d, cold: %d new JVMs; ms; load average %s%n",
      vips.version(), format.extension(), runs, warmup, cold, Files.readString(Path.of("/proc/loadavg")).strip());
    System.out.printf("%-22s %5s %10s %10s %10s %10s%n", "original", "size", "warm p50", "warm p99", "cold p50", "cold p99");
    for (Map.Entry<String, Path> e : originals.entrySet()) {
      for (int size : new int[] {64, 256}) {
        double[] coldMs = new double[cold];
        for (int i = 0; i < cold; i++) {
          coldMs[i] = child(e.getValue(), size, format);
        }
        for (int i = 0; i < warmup; i++) {
          renderOnce(e.getValue(), size, format);
        }
        double[] warmMs = new double[runs];
        for (int i = 0; i < runs; i++) {
          warmMs[i] = renderOnce(e.getValue(), size, format);
        }
        System.out.printf("%-22s %5d %10.1f %10.1f %10.1f %10.1f%n", e.getKey(), size,
          pct(warmMs, 50), pct(warmMs, 99), pct(coldMs, 50), pct(coldMs, 99));
      }
    }
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  private static double renderOnce(Path file, int size, VariantFormat format) throws Exception {
    VipsRenderer renderer = VipsRenderer.load();
    long start = System.nanoTime();
    SourceInfo info = renderer.probe(file, null);
    renderer.render(file, info, List.of(new VariantSpec(size, format, false)), RenderLimits.DEFAULT);
    return (System.nanoTime() - start) / 1e6;
  }

  private static double child(Path file, int size, VariantFormat format) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
      "src/load/variants/VipsBench.java", "--one", file + "," + size + "," + format.extension())
      .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("cold run failed: " + out);
    }
    String[] lines = out.split("\n");
    return Double.parseDouble(lines[lines.length - 1]);
  }

  private static Map<String, Path> makeOriginals(Vips vips, Path dir) {
    VipsLib lib = vips.lib();
    Map<String, Path> made = new LinkedHashMap<>();
    Pointer base = check(vips, lib.vips_image_new_from_file("src/test/resources/fixtures/images/large-1200.jpg", Vips.END));
    Pointer big = resize(vips, base, 4000 / 1200.0, 3000 / 1200.0);
    made.put("jpeg 4000x3000", save(vips, big, dir.resolve("baseline.jpg"), "[Q=90]"));
    made.put("jpeg progressive", save(vips, big, dir.resolve("progressive.jpg"), "[Q=90,interlace]"));
    PointerByReference cmyk = new PointerByReference();
    ok(vips, lib.vips_icc_transform(big, cmyk, "cmyk", "input_profile", "srgb", Vips.END));
    made.put("jpeg cmyk+icc", save(vips, cmyk.getValue(), dir.resolve("cmyk.jpg"), "[Q=90]"));
    lib.g_object_unref(cmyk.getValue());
    lib.g_object_unref(big);
    Pointer square = resize(vips, base, 2000 / 1200.0, 2000 / 1200.0);
    PointerByReference alpha = new PointerByReference();
    ok(vips, lib.vips_bandjoin_const1(square, alpha, 200.0, Vips.END));
    made.put("png 2000² alpha", save(vips, alpha.getValue(), dir.resolve("alpha.png"), ""));
    lib.g_object_unref(alpha.getValue());
    made.put("webp 2000²", save(vips, square, dir.resolve("still.webp"), "[Q=80]"));
    lib.g_object_unref(square);
    // 40 different frames (identical ones would be merged by the encoders): windows moving over it.
    Pointer half = resize(vips, base, 0.5, 0.5);
    Pointer[] frames = new Pointer[40];
    for (int k = 0; k < frames.length; k++) {
      PointerByReference window = new PointerByReference();
      ok(vips, lib.vips_extract_area(half, window, k * 7, k * 5, 320, 240, Vips.END));
      frames[k] = window.getValue();
    }
    PointerByReference strip = new PointerByReference();
    ok(vips, lib.vips_arrayjoin(frames, strip, frames.length, "across", 1, Vips.END));
    PointerByReference paged = new PointerByReference();
    ok(vips, lib.vips_copy(strip.getValue(), paged, Vips.END));
    lib.vips_image_set_int(paged.getValue(), "page-height", 240);
    made.put("gif 40×320x240", save(vips, paged.getValue(), dir.resolve("animated.gif"), ""));
    made.put("webp 40×320x240", save(vips, paged.getValue(), dir.resolve("animated.webp"), "[Q=80]"));
    lib.g_object_unref(paged.getValue());
    lib.g_object_unref(strip.getValue());
    for (Pointer f : frames) {
      lib.g_object_unref(f);
    }
    lib.g_object_unref(half);
    lib.g_object_unref(base);
    return made;
  }

  private static Pointer resize(Vips vips, Pointer in, double h, double v) {
    PointerByReference out = new PointerByReference();
    ok(vips, vips.lib().vips_resize(in, out, h, "vscale", v, Vips.END));
    return out.getValue();
  }

  private static Path save(Vips vips, Pointer image, Path file, String options) {
    ok(vips, vips.lib().vips_image_write_to_file(image, file + options, Vips.END));
    return file;
  }

  private static Pointer check(Vips vips, Pointer p) {
    if (p == null) {
      throw new IllegalStateException(vips.takeError());
    }
    return p;
  }

  private static void ok(Vips vips, int result) {
    if (result != 0) {
      throw new IllegalStateException(vips.takeError());
    }
  }

  private static double pct(double[] values, int p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> opt = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    return opt;
  }
}
