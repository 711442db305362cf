import io.avatarserver.variant.JavaRenderer;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Micro-benchmark of the pure-Java renderer ({@link JavaRenderer}): p50/p99 milliseconds per render of
 * a 64 px and a 256 px variant from each kind of original, in the original's format and in WebP, the
 * first call (cold) apart from the rest (warm). One thread, one render at a time.
 *
 * <pre>
 *   mvn -q -o -DskipTests package
 *   java -cp target/avatar-server.jar src/load/variants/RenderBench.java [--runs 20] [--inputs target/render-bench]
 *     [--sizes 64,256] [--only png-alpha,jpeg-baseline]
 *   java -Xmx64m -cp target/avatar-server.jar src/load/variants/RenderBench.java --pair [--runs 10]
 * </pre>
 *
 * Run from the project root. The first form makes the inputs (once, into {@code --inputs}): 4000×3000
 * baseline and progressive JPEG, 2000×2000 PNG with alpha, 2000×2000 lossy WebP, a 4096×4096 RGBA PNG
 * "bomb" of ~65 KB, and takes the small CMYK JPEG and animated GIF/WebP fixtures from
 * src/test/resources/fixtures/variants. {@code --pair} (after the inputs exist) renders the worst inputs
 * two at a time on two threads, meant for {@code -Xmx64m}: it prints the peak heap and exits non-zero on
 * any failure (an OutOfMemoryError included). {@code --sizes} gives the variant sizes (default 64 and
 * 256), {@code --only} the inputs by name (default all). Running it from the shaded jar also proves that the jar's
 * merged ImageIO service files register the TwelveMonkeys JPEG and libwebp readers and writers.
 */
public class RenderBench {

  public static void main(String[] args) throws Exception {
    int runs = 20;
    Path inputs = Path.of("target/render-bench");
    boolean pair = false;
    int[] sizes = {64, 256};
    List<String> only = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--sizes" -> sizes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--only" -> only = List.of(args[++i].split(","));
        case "--inputs" -> inputs = Path.of(args[++i]);
        case "--pair" -> pair = true;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.println("ImageIO readers: jpeg=" + ImageIO.getImageReadersByFormatName("jpeg").next().getClass().getName()
      + " webp=" + ImageIO.getImageReadersByMIMEType("image/webp").next().getClass().getName()
      + "; writer webp=" + ImageIO.getImageWritersByMIMEType("image/webp").next().getClass().getName());
    Map<String, Path> files = inputs(inputs, !pair);
    if (pair) {
      pair(files, runs);
    } else {
      if (only != null) {
        files.keySet().retainAll(only);
      }
      bench(files, runs, sizes);
    }
  }

  private static void bench(Map<String, Path> files, int runs, int[] sizes) throws Exception {
    JavaRenderer renderer = new JavaRenderer();
    System.out.printf("%-28s %-5s %5s %9s %9s %9s %9s%n", "input", "out", "size", "cold ms", "p50 ms", "p99 ms", "bytes");
    for (Map.Entry<String, Path> e : files.entrySet()) {
      SourceInfo info = renderer.probe(e.getValue(), null);
      VariantFormat own = VariantFormat.ofMediaType(info.mediaType()).orElseThrow();
      for (VariantFormat format : own == VariantFormat.WEBP ? List.of(own) : List.of(own, VariantFormat.WEBP)) {
        for (int size : sizes) {
          VariantSpec spec = new VariantSpec(size, format, false);
          double[] ms = new double[runs];
          double cold = 0;
          int bytes = 0;
          for (int i = -1; i < runs; i++) {
            long t0 = System.nanoTime();
            List<Rendered> out = renderer.render(e.getValue(), renderer.probe(e.getValue(), null), List.of(spec),
              RenderLimits.DEFAULT);
            double t = (System.nanoTime() - t0) / 1e6;
            bytes = out.get(0).bytes().length;
            if (i < 0) {
              cold = t;
            } else {
              ms[i] = t;
            }
          }
          Arrays.sort(ms);
          System.out.printf("%-28s %-5s %5d %9.1f %9.1f %9.1f %9d%s%n", e.getKey() + " " + info.width() + "x"
              + info.height() + (info.frames() > 1 ? "x" + info.frames() : ""), format.extension(), size, cold,
            ms[runs / 2], ms[Math.min(runs - 1, (int) Math.ceil(runs * 0.99) - 1)], bytes,
            out(renderer, e.getValue(), spec));
        }
      }
    }
  }

  private static String out(JavaRenderer r, Path file, VariantSpec spec) throws Exception {
    return r.render(file, r.probe(file, null), List.of(spec), RenderLimits.DEFAULT).get(0).animated() ? " animated" : "";
  }

  private static void pair(Map<String, Path> files, int runs) throws Exception {
    List<Path> worst = List.of(files.get("jpeg-progressive"), files.get("png-bomb"), files.get("jpeg-baseline"),
      files.get("png-alpha"));
    JavaRenderer renderer = new JavaRenderer();
    long[] maxUsed = {0};
    Thread sampler = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        maxUsed[0] = Math.max(maxUsed[0], ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.setDaemon(true);
    sampler.start();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<?>> jobs = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      int offset = t;
      jobs.add(pool.submit(() -> {
        for (int i = 0; i < runs; i++) {
          for (int k = 0; k < worst.size(); k++) {
            Path file = worst.get((k + offset) % worst.size());
            renderer.render(file, renderer.probe(file, null), List.of(new VariantSpec(512, VariantFormat.WEBP, false),
              new VariantSpec(256, VariantFormat.JPEG, false), new VariantSpec(64, VariantFormat.PNG, false)),
              RenderLimits.DEFAULT);
          }
        }
        return null;
      }));
    }
    for (Future<?> f : jobs) {
      f.get();
    }
    pool.shutdown();
    sampler.interrupt();
    System.out.printf("pair: %d x 2 threads x %d worst inputs at 512+256+64 px, all rendered; max heap %d MiB, "
      + "largest heap use sampled (garbage included) %d MiB%n", runs, worst.size(),
      Runtime.getRuntime().maxMemory() >> 20, maxUsed[0] >> 20);
  }

  private static Map<String, Path> inputs(Path dir, boolean make) throws IOException {
    Files.createDirectories(dir);
    Map<String, Path> files = new LinkedHashMap<>();
    Path fixtures = Path.of("src/test/resources/fixtures/variants");
    files.put("jpeg-baseline", make(dir.resolve("baseline-4000x3000.jpg"), make, p -> jpeg(p, photo(4000, 3000), false)));
    files.put("jpeg-progressive", make(dir.resolve("progressive-4000x3000.jpg"), make, p -> jpeg(p, photo(4000, 3000), true)));
    files.put("jpeg-cmyk (fixture)", fixtures.resolve("cmyk.jpg"));
    files.put("png-alpha", make(dir.resolve("alpha-2000.png"), make, p -> ImageIO.write(alpha(photo(2000, 2000)), "png", p.toFile())));
    files.put("png-bomb", make(dir.resolve("bomb-4096.png"), make, p -> blankPng(p, 4096, 4096)));
    files.put("webp-lossy", make(dir.resolve("lossy-2000.webp"), make, p -> ImageIO.write(photo(2000, 2000), "webp", p.toFile())));
    files.put("gif-animated (fixture)", fixtures.resolve("animated.gif"));
    files.put("webp-animated (fixture)", fixtures.resolve("animated.webp"));
    return files;
  }

  interface Maker {
    void make(Path p) throws IOException;
  }

  private static Path make(Path p, boolean allowed, Maker maker) throws IOException {
    if (!Files.exists(p)) {
      if (!allowed) {
        throw new IllegalStateException(p + " missing: run once without --pair to make the inputs");
      }
      maker.make(p);
    }
    return p;
  }

  /** Something photo-like: gradients, shapes and noise (so that JPEG and WebP have real work). */
  private static BufferedImage photo(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setPaint(new GradientPaint(0, 0, new Color(30, 90, 160), w, h, new Color(240, 200, 120)));
    g.fillRect(0, 0, w, h);
    Random rnd = new Random(19);
    for (int i = 0; i < 300; i++) {
      g.setColor(new Color(rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256), 160));
      g.fillOval(rnd.nextInt(w), rnd.nextInt(h), 20 + rnd.nextInt(w / 4), 20 + rnd.nextInt(h / 4));
    }
    g.dispose();
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int n = rnd.nextInt(17) - 8;
        int p = row[x];
        row[x] = clamp((p >> 16 & 0xff) + n) << 16 | clamp((p >> 8 & 0xff) + n) << 8 | clamp((p & 0xff) + n);
      }
      img.setRGB(0, y, w, 1, row, 0, w);
    }
    return img;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  private static BufferedImage alpha(BufferedImage rgb) {
    BufferedImage img = new BufferedImage(rgb.getWidth(), rgb.getHeight(), BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < rgb.getHeight(); y++) {
      for (int x = 0; x < rgb.getWidth(); x++) {
        int a = (int) (255.0 * x / rgb.getWidth());
        img.setRGB(x, y, a << 24 | (rgb.getRGB(x, y) & 0xffffff));
      }
    }
    return img;
  }

  private static void jpeg(Path p, BufferedImage img, boolean progressive) throws IOException {
    ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam param = w.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(0.9f);
    if (progressive) {
      param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
    }
    try (ImageOutputStream out = ImageIO.createImageOutputStream(p.toFile())) {
      w.setOutput(out);
      w.write(null, new IIOImage(img, null, null), param);
    }
    w.dispose();
  }

  private static void blankPng(Path file, int width, int height) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
      chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 6)
        .put((byte) 0).put((byte) 0).put((byte) 0).array());
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
    out.write(ByteBuffer.allocate(4).putInt(data.length).array());
    out.write(t);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
