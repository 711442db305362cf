package io.avatarserver.variant;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small renderer for tests, on the JDK's ImageIO (reads PNG, JPEG, GIF; not WebP): centre crop,
 * bilinear scale, encode. WebP output is a stand-in (a RIFF/WEBP header over PNG bytes): the tests
 * check the wiring, the engines are tested on their own. It counts renders, records their specs and
 * the thread they ran on, and can be held shut to fill the render queue.
 */
public final class ImageIoTestRenderer implements Renderer {

  public final AtomicInteger renders = new AtomicInteger();
  public final AtomicInteger probes = new AtomicInteger();
  public final ConcurrentLinkedQueue<VariantSpec> specs = new ConcurrentLinkedQueue<>();
  /** The specs of each render call, in call order. */
  public final ConcurrentLinkedQueue<List<VariantSpec>> calls = new ConcurrentLinkedQueue<>();
  public final ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();
  private volatile CountDownLatch gate;
  /** Counted down each time a render starts waiting at a closed gate. */
  public final java.util.concurrent.Semaphore waiting = new java.util.concurrent.Semaphore(0);

  /** Renders wait until {@link #open} (at most 30 s). */
  public void close() {
    gate = new CountDownLatch(1);
  }

  public void open() {
    CountDownLatch g = gate;
    gate = null;
    if (g != null) {
      g.countDown();
    }
  }

  @Override
  public String name() {
    return "imageio-test";
  }

  @Override
  public SourceInfo probe(Path original, String mediaType) throws IOException, RenderException {
    probes.incrementAndGet();
    try (ImageInputStream in = ImageIO.createImageInputStream(original.toFile())) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new RenderException("not an image ImageIO reads: " + mediaType);
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in);
        int frames = "image/gif".equals(mediaType) ? reader.getNumImages(true) : 1;
        return new SourceInfo(mediaType, reader.getWidth(0), reader.getHeight(0), frames, 1);
      } finally {
        reader.dispose();
      }
    }
  }

  @Override
  public List<Rendered> render(Path original, SourceInfo info, List<VariantSpec> wanted, RenderLimits limits)
    throws IOException, RenderException {
    threads.add(Thread.currentThread().getName());
    renders.incrementAndGet();
    specs.addAll(wanted);
    calls.add(List.copyOf(wanted));
    CountDownLatch g = gate;
    if (g != null) {
      waiting.release();
      try {
        g.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RenderException("interrupted");
      }
    }
    BufferedImage source = ImageIO.read(original.toFile());
    if (source == null) {
      throw new RenderException("unreadable");
    }
    int side = Math.min(source.getWidth(), source.getHeight());
    BufferedImage square = source.getSubimage((source.getWidth() - side) / 2, (source.getHeight() - side) / 2, side, side);
    List<Rendered> out = new ArrayList<>();
    for (VariantSpec spec : wanted) {
      BufferedImage scaled = new BufferedImage(spec.size(), spec.size(),
        spec.format() == VariantFormat.JPEG ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_INT_ARGB);
      Graphics2D g2 = scaled.createGraphics();
      g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g2.drawImage(square, 0, 0, spec.size(), spec.size(), null);
      g2.dispose();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      switch (spec.format()) {
        case PNG -> ImageIO.write(scaled, "png", bytes);
        case JPEG -> ImageIO.write(scaled, "jpeg", bytes);
        case GIF -> ImageIO.write(scaled, "gif", bytes);
        case WEBP -> {
          ByteArrayOutputStream png = new ByteArrayOutputStream();
          ImageIO.write(scaled, "png", png);
          bytes.write("RIFF\0\0\0\0WEBP".getBytes(StandardCharsets.ISO_8859_1));
          png.writeTo(bytes);
        }
      }
      out.add(new Rendered(spec, bytes.toByteArray(), spec.size(), spec.size(), false));
    }
    return out;
  }

  /** The pixel size of a PNG, JPEG or GIF (or of the stand-in WebP's PNG). */
  public static int[] dimensions(byte[] image) throws IOException {
    byte[] readable = image;
    if (image.length > 12 && new String(image, 0, 4, StandardCharsets.ISO_8859_1).equals("RIFF")) {
      readable = java.util.Arrays.copyOfRange(image, 12, image.length);
    }
    BufferedImage read = ImageIO.read(new java.io.ByteArrayInputStream(readable));
    return new int[] {read.getWidth(), read.getHeight()};
  }
}
