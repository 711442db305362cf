package io.avatarserver.variant;

import com.luciad.imageio.webp.WebPReadParam;
import com.luciad.imageio.webp.WebPReader;
import io.avatarserver.variant.ImageHeaders.WebpFrame;
import io.avatarserver.variant.ImageHeaders.WebpLayout;
import java.awt.AlphaComposite;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.awt.image.SampleModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageInputStreamImpl;
import org.w3c.dom.Node;

/**
 * The pure-Java render engine (the default: nothing to install). ImageIO with TwelveMonkeys' JPEG
 * reader (CMYK/YCCK with ICC, progressive), the JDK's PNG and GIF codecs, and libwebp through JNI
 * (webp-imageio, natives bundled in its jar) for WebP in both directions.
 *
 * <p>Bounded cost: the header is probed again here and refused beyond {@link RenderLimits} before any
 * pixel is decoded. Only the centre square is decoded, subsampled so that its side is at most twice the
 * largest target, and at most {@link Geometry#MAX_DECODED} where the target allows (ImageIO source region +
 * subsampling; libwebp crop + scale), so a 4096×4096 PNG rendered at 64 px decodes a 128×128 raster,
 * and at 1024 px a 1024×1024 one. Where no integer subsampling gets down to that (a 1024 px variant of
 * a 1025–4095 px original), a PNG or JPEG whose reader writes rows in order (or the whole image once
 * per pass, top to bottom: a progressive JPEG) is averaged down to 1024²
 * while it is decoded, never holding the decoded square ({@link StreamedDecode}), and a still WebP is
 * scaled to 1024² by libwebp. The renders in progress share a heap budget (half the maximum
 * heap, less what the uploads in flight hold: {@link HeapShare}), each taking its decoded pixels ×
 * {@link #BYTES_PER_DECODED_PIXEL} of it (see {@link #heapKibFor}): renders past the budget wait for each
 * other instead of running the heap out, and one render takes at most half of it (a decode that would
 * need more is subsampled further: {@link #fit}). No full-size copy
 * is made that is not needed: the square is converted for the encoder where it lies when nothing reads
 * it afterwards, libwebp gets bytes converted straight from it (an animation's frames reuse one such
 * array), a 16-bit PNG decoded whole is written into a packed 8-bit raster, a raster of another type is
 * converted a strip at a time, an animation's canvas is encoded as it is, and encoders' output is held
 * in blocks. The orientation is applied to that small square, then
 * each size is derived from one bilinear halving chain (a 2×2 box per step) with a final bicubic step.
 *
 * <p>Animation: an animated GIF or WebP keeps its animation in a GIF or WebP variant while its frame
 * count is at most {@code maxAnimationFrames}, frames × source pixels at most
 * {@code maxAnimationSourcePixels} (LZW and VP8 cannot skip: every frame is decoded whole) and frames ×
 * size² at most {@code maxAnimationPixels} (see {@link RenderLimits#keepsAnimation});
 * otherwise, for PNG and JPEG variants, and for {@code firstFrameOnly}, the variant is the first frame.
 * Frames are composited on the (subsampled) square canvas honouring GIF disposal methods and WebP
 * blending/disposal, and encoded one at a time: only one canvas is held, never all frames. Delays and
 * the loop count are kept. Animated WebP is written by assembling libwebp-encoded frames into ANMF chunks.
 *
 * <p>{@link #render} returns one {@link Rendered} per spec, in the order of the specs; the media type
 * is sniffed from the file's magic bytes ({@code mediaType} arguments are not trusted).
 */
public final class JavaRenderer implements Renderer {

  /** A seam for tests: sees every raster the decoders produce (to prove that decodes are bounded). */
  @FunctionalInterface
  interface DecodeObserver {
    void decoded(BufferedImage raster);
  }

  /**
   * Heap a decoded pixel costs a render at its peak, whichever comes first: the ARGB square (4) beside
   * a 1024 px PNG of noise (4 MiB) being copied out of its blocks (4 + 4), or beside the straight copy
   * a PNG, JPEG or GIF encoder takes of a square that later sizes still read (4) and that encoder's
   * output; an 8-bit raster decoded whole (up to 4) beside its ARGB copy (4). Less for WebP: the square
   * (4) and the RGBA bytes libwebp encodes (4), also an animation's canvas and each frame's bytes; a
   * 16-bit PNG decoded whole is written by its reader straight into a packed 8-bit raster (4).
   * Measured: see the README (bounded memory) and {@code JavaRendererTest}, {@code PixelsTest}.
   */
  static final int BYTES_PER_DECODED_PIXEL = 12;
  /** More for an animated GIF: the canvas saved for a frame whose disposal is restoreToPrevious. */
  static final int GIF_ANIMATION_BYTES_PER_PIXEL = 4;

  private final DecodeObserver observer;
  /** The heap the renders in progress may take: {@link #heapBudget} of the maximum heap, in KiB. */
  private final HeapShare heap;
  private final int budgetKib;

  public JavaRenderer() {
    this(raster -> {
    }, heapBudget(Runtime.getRuntime().maxMemory()));
  }

  JavaRenderer(DecodeObserver observer) {
    this(observer, heapBudget(Runtime.getRuntime().maxMemory()));
  }

  /**
   * Half the maximum heap: 32 MiB of 64, room for two 1024 px renders of the worst originals the upload
   * limits let in (16 MiB each at most: 1024² decoded pixels, an animated GIF) at once; less what the
   * uploads in flight hold ({@link HeapShare}), so that beside the memory proof's 1,000 uploads the
   * large ones take turns (see the README).
   */
  static long heapBudget(long maxHeap) {
    return maxHeap / 2;
  }

  JavaRenderer(DecodeObserver observer, long heapBudgetBytes) {
    this.observer = observer;
    this.budgetKib = (int) Math.max(1, Math.min(Integer.MAX_VALUE, heapBudgetBytes / 1024));
    this.heap = new HeapShare(budgetKib);
  }

  /** The heap budget's KiB not taken by renders in progress (for tests). */
  int availableHeapKib() {
    return heap.available();
  }

  @Override
  public void shareHeapWith(LongSupplier otherWorkBytes) {
    heap.others = otherWorkBytes;
  }

  @Override
  public long heapReservedBytes() {
    return heap.reserved() * 1024L;
  }

  /**
   * The renders' share of the heap, in KiB. A render reserves its charge before it decodes and gives it
   * back when done; it waits while the renders in progress and it would take more than the budget less
   * what other work holds now (the uploads in flight: see {@link Renderer#shareHeapWith}), unless no
   * render is in progress: one always runs, and {@link #fit} keeps it to half the budget.
   *
   * <p>Why the uploads count: the budget is half the heap, room for two 1024 px renders of the worst
   * originals at once (12 MiB each), and the other half was meant for everything else. But 1,000 uploads
   * in flight hold about 16 MiB of heap beside the 11 MiB an idle server holds (the memory proof's live
   * histogram), and every 1024² raster is, for G1 with the 1 MiB regions of a 64 MiB heap, a humongous
   * object of 5 regions in a row: two such renders beside them ran that heap out now and then (2 of 10
   * runs of the proof with 2047² originals). With them counted, the large renders take turns while the
   * uploads fill the heap, and run two at once again when they leave room.
   */
  private static final class HeapShare {
    private final int budgetKib;
    private int reservedKib;
    volatile LongSupplier others = () -> 0;

    HeapShare(int budgetKib) {
      this.budgetKib = budgetKib;
    }

    synchronized void acquire(int kib) {
      boolean interrupted = false;
      while (reservedKib > 0 && reservedKib + kib > budgetKib - others.getAsLong() / 1024) {
        try {
          // Uploads that end make room without a word: look again after a while.
          wait(100);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      reservedKib += kib;
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    synchronized void release(int kib) {
      reservedKib -= kib;
      notifyAll();
    }

    synchronized int available() {
      return budgetKib - reservedKib;
    }

    synchronized int reserved() {
      return reservedKib;
    }
  }

  /**
   * What a render takes of the heap budget: its decoded square at {@link #BYTES_PER_DECODED_PIXEL}
   * ({@link #GIF_ANIMATION_BYTES_PER_PIXEL} more for an animated GIF), and for a WebP the file itself,
   * which libwebp's reader holds in the heap (up to the upload limit); never more than the whole
   * budget, and {@link #fit} keeps a render's geometry to at most half of it.
   *
   * <p>A {@code streamed} decode ({@link StreamedDecode}: a PNG or JPEG whose decoded square is larger
   * than the square kept) never holds the decoded square: it takes the kept square ({@link Geometry#out})
   * at the same 12 bytes a pixel (the ARGB square beside the encoder's copies, as above; while decoding
   * it holds less: the ARGB square being averaged into, 4) plus its band ({@link StreamedDecode#bandBytes}):
   * 12 MiB + 0.5 MiB for a 1024 px variant of a 2047² 16-bit PNG instead of 2047² × 12 = 48 MiB. A
   * still WebP is scaled to the kept square by libwebp itself, so it too is charged at that square.
   */
  int heapKibFor(SourceInfo source, Geometry g, boolean animating, long fileBytes, boolean streamed) {
    return (int) Math.min(budgetKib, Math.max(1, heapBytesFor(source, g, animating, fileBytes, streamed) / 1024));
  }

  /**
   * {@code g}, or a coarser subsampling of it, whichever first takes at most half the budget: so that two
   * renders of any originals fit in it at once, and no render needs more heap than the budget holds (one
   * charged the whole budget but needing more, as a 2047² interlaced 16-bit PNG decoded whole at 1024 px
   * (48 MiB) in the 32 MiB of a 64 MiB heap, ran that heap out beside the uploads). A coarser decode is
   * smaller than the largest target: that variant is scaled up from it, so it is softer; it happens only
   * where the heap is that small (a 64 MiB heap: 1024 px variants of an original of 1025–2047 px that
   * cannot be streamed, such as an interlaced PNG, a CMYK or ICC-tagged JPEG or a GIF; none with a heap of
   * 256 MiB or more). A WebP's file, which its reader holds besides, is charged but not fitted.
   */
  Geometry fit(SourceInfo source, Geometry g, int largest, boolean animating, long fileBytes, ImageHeaders.RowOrder rows) {
    Geometry fitted = g;
    // The pixels alone: a WebP's file, held by libwebp's reader, does not shrink with the subsampling.
    while (heapBytesFor(source, fitted, animating, 0, streams(rows, fitted)) / 1024 > budgetKib / 2
      && fitted.decoded() > 1) {
      fitted = fitted.coarser(largest);
    }
    return fitted;
  }

  /** Whether a still of this row order is decoded through {@link StreamedDecode} with {@code g}. */
  private static boolean streams(ImageHeaders.RowOrder rows, Geometry g) {
    return rows != ImageHeaders.RowOrder.WHOLE && g.out() < g.decoded();
  }

  private static long heapBytesFor(SourceInfo source, Geometry g, boolean animating, long fileBytes, boolean streamed) {
    int perPixel = BYTES_PER_DECODED_PIXEL
      + (animating && ImageHeaders.GIF.equals(source.mediaType()) ? GIF_ANIMATION_BYTES_PER_PIXEL : 0);
    boolean webp = ImageHeaders.WEBP.equals(source.mediaType());
    int held = streamed || webp && !source.animated() ? g.out() : g.decoded();
    return (long) held * held * perPixel + (webp ? fileBytes : 0)
      + (streamed ? StreamedDecode.bandBytes(g.decoded(), g.out()) : 0);
  }

  @Override
  public String name() {
    return "java";
  }

  @Override
  public SourceInfo probe(Path original, String mediaType) throws IOException, RenderException {
    return ImageHeaders.probe(original);
  }

  @Override
  public List<Rendered> render(Path original, SourceInfo info, List<VariantSpec> specs, RenderLimits limits)
    throws IOException, RenderException {
    if (specs.isEmpty()) {
      return List.of();
    }
    // The caller's info is not trusted with the memory: the header is read again (cheap, no pixels).
    SourceInfo source = ImageHeaders.probe(original);
    if (source.pixels() > limits.maxSourcePixels()) {
      throw new RenderException("the image has " + source.width() + "x" + source.height()
        + " pixels, more than the " + limits.maxSourcePixels() + " a render may decode");
    }
    int largest = specs.stream().mapToInt(VariantSpec::size).max().orElseThrow();
    Geometry geometry = Geometry.of(source, largest);
    List<VariantSpec> order = new ArrayList<>(specs);
    order.sort(Comparator.comparingInt(VariantSpec::size).reversed());
    Map<VariantSpec, Rendered> done = new HashMap<>();
    boolean animating = specs.stream().anyMatch(spec -> animates(source, spec, limits));
    boolean still = !ImageHeaders.GIF.equals(source.mediaType()) && !ImageHeaders.WEBP.equals(source.mediaType());
    ImageHeaders.RowOrder rows = still && geometry.out() < geometry.decoded() ? ImageHeaders.rowOrder(original)
      : ImageHeaders.RowOrder.WHOLE;
    long fileBytes = Files.size(original);
    geometry = fit(source, geometry, largest, animating, fileBytes, rows);
    boolean streamed = streams(rows, geometry);
    // Renders past the budget wait for each other (on worker threads) instead of running the heap out.
    int kib = heapKibFor(source, geometry, animating, fileBytes, streamed);
    heap.acquire(kib);
    try {
      switch (source.mediaType()) {
        case ImageHeaders.GIF -> gif(original, source, geometry, order, limits, done);
        case ImageHeaders.WEBP -> webp(original, source, geometry, order, limits, done);
        default -> {
          BufferedImage square = streamed ? decodeStreamed(original, source, geometry, rows) : null;
          if (square == null) {
            if (streamed) {
              // The reader did not write in order after all (or its type has several banks): the whole
              // square is decoded, at its own charge, taken after giving the streamed one back, so that
              // two such renders cannot hold each other up.
              heap.release(kib);
              kib = 0;
              Geometry whole = fit(source, geometry, largest, animating, fileBytes, ImageHeaders.RowOrder.WHOLE);
              int full = heapKibFor(source, whole, animating, fileBytes, false);
              heap.acquire(full);
              kib = full;
              square = decodeStill(original, source, whole, ImageHeaders.RowOrder.WHOLE);
            } else {
              square = decodeStill(original, source, geometry, ImageHeaders.RowOrder.WHOLE);
            }
          }
          stills(Pixels.orient(square, source.orientation()), true, order, done);
        }
      }
    } catch (RenderException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      // The file was opened and its header read: what fails now is the image data (IIOException,
      // EOFException, a decoder tripping over hostile bytes). Only errors are let through.
      if (!Files.isReadable(original)) {
        throw e;
      }
      throw new RenderException("the image cannot be decoded: " + e.getMessage(), e);
    } finally {
      heap.release(kib);
    }
    List<Rendered> result = new ArrayList<>(specs.size());
    for (VariantSpec spec : specs) {
      result.add(done.get(spec));
    }
    return result;
  }

  /** Whether {@code spec} of {@code source} is rendered animated. */
  static boolean animates(SourceInfo source, VariantSpec spec, RenderLimits limits) {
    return !spec.firstFrameOnly()
      && (spec.format() == VariantFormat.GIF || spec.format() == VariantFormat.WEBP)
      && limits.keepsAnimation(source.frames(), source.pixels(), spec.size());
  }

  /**
   * Encodes each spec (largest first) from one halving chain of {@code square}. A raster no later spec
   * reads is handed to the encoder to convert where it lies: a fresh scaled copy always, the chain's
   * levels at the last spec, and {@code square} itself only when {@code owned} (nothing else holds it).
   */
  private static void stills(BufferedImage square, boolean owned, List<VariantSpec> specs,
    Map<VariantSpec, Rendered> done) throws IOException {
    Pixels.Pyramid pyramid = new Pixels.Pyramid(square);
    List<VariantSpec> todo = specs.stream().filter(spec -> !done.containsKey(spec)).distinct().toList();
    for (int i = 0; i < todo.size(); i++) {
      VariantSpec spec = todo.get(i);
      BufferedImage img = pyramid.get(spec.size());
      boolean consume = !pyramid.isLevel(img) || i == todo.size() - 1 && (owned || img != square);
      byte[] bytes = Encoders.still(img, spec.format(), Pixels.hasTransparency(img), consume);
      done.put(spec, new Rendered(spec, bytes, spec.size(), spec.size(), false));
    }
  }

  // ---------------------------------------------------------------- PNG and JPEG

  /**
   * The centre square of a PNG or JPEG decoded through {@link StreamedDecode} to the kept side
   * ({@link Geometry#out}); null when the reader does not write its rows in order (or in one bank).
   */
  private BufferedImage decodeStreamed(Path file, SourceInfo source, Geometry g, ImageHeaders.RowOrder rows)
    throws IOException, RenderException {
    try {
      return decodeStill(file, source, g, rows);
    } catch (IOException | RuntimeException e) {
      if (StreamedDecode.outOfOrder(e)) {
        return null;
      }
      throw e;
    }
  }

  /** The centre square, subsampled, as premultiplied ARGB: decoded whole ({@code WHOLE}), or streamed to {@link Geometry#out}. */
  private BufferedImage decodeStill(Path file, SourceInfo source, Geometry g, ImageHeaders.RowOrder rows)
    throws IOException, RenderException {
    try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
      ImageReader reader = reader(source.mediaType());
      try {
        reader.setInput(in, true, true);
        if (reader.getWidth(0) != source.width() || reader.getHeight(0) != source.height()) {
          throw new RenderException("the decoder disagrees with the header about the image size");
        }
        boolean[] truncated = {false};
        reader.addIIOReadWarningListener((r, warning) -> {
          // TwelveMonkeys/libjpeg say so for data that ends early; the decoder would fill the rest grey.
          String w = warning == null ? "" : warning.toLowerCase(Locale.ROOT);
          if (w.contains("premature end") || w.contains("truncated")) {
            truncated[0] = true;
          }
        });
        ImageReadParam param = reader.getDefaultReadParam();
        param.setSourceRegion(new Rectangle(g.x, g.y, g.side, g.side));
        param.setSourceSubsampling(g.sub, g.sub, 0, 0);
        BufferedImage square;
        if (rows != ImageHeaders.RowOrder.WHOLE) {
          square = StreamedDecode.read(reader, param, g.decoded(), g.out(), rows == ImageHeaders.RowOrder.PASSES, observer);
        } else {
          param.setDestination(packedDestination(reader, source, g));
          BufferedImage raster = reader.read(0, param);
          observer.decoded(raster);
          square = Pixels.ownArgb(raster);
        }
        if (truncated[0]) {
          throw new RenderException("the image data ends early (truncated file)");
        }
        return square;
      } finally {
        reader.dispose();
      }
    }
  }

  /**
   * For a PNG of 16-bit RGB or RGBA decoded whole, a packed 8-bit destination (straight ARGB, or RGB)
   * of the decoded square: the JDK's reader scales the samples down as it writes them (its own
   * bit-depth tables), so the square is decoded at 4 bytes a pixel and premultiplied where it lies,
   * instead of into a 16-bit raster (6 or 8 bytes a pixel: 8 MiB at 1024²) beside an ARGB copy of it.
   * Slower (the reader writes such a raster a sample at a time), which only these PNGs pay. Null
   * (the reader's own raster) for everything else.
   */
  private static BufferedImage packedDestination(ImageReader reader, SourceInfo source, Geometry g) throws IOException {
    if (!ImageHeaders.PNG.equals(source.mediaType())) {
      return null;
    }
    Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
    if (!types.hasNext()) {
      return null;
    }
    SampleModel sm = types.next().getSampleModel(); // the type the reader would decode to
    int bands = sm.getNumBands();
    if (sm.getSampleSize(0) <= 8 || bands < 3 || bands > 4) {
      return null;
    }
    return new BufferedImage(g.decoded(), g.decoded(), bands == 4 ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
  }

  /** A reader for the type, a plugin's before the JDK's own (TwelveMonkeys reads CMYK/YCCK JPEG; the JDK's cannot). */
  private static ImageReader reader(String mediaType) throws RenderException {
    Iterator<ImageReader> it = ImageIO.getImageReadersByMIMEType(mediaType);
    ImageReader chosen = null;
    while (it.hasNext()) {
      ImageReader r = it.next();
      if (chosen == null || chosen.getClass().getName().startsWith("com.sun.") && !r.getClass().getName().startsWith("com.sun.")) {
        if (chosen != null) {
          chosen.dispose();
        }
        chosen = r;
      } else {
        r.dispose();
      }
    }
    if (chosen == null) {
      throw new RenderException("no decoder for " + mediaType);
    }
    return chosen;
  }

  // ---------------------------------------------------------------- GIF

  private void gif(Path file, SourceInfo source, Geometry g, List<VariantSpec> specs, RenderLimits limits,
    Map<VariantSpec, Rendered> done) throws IOException, RenderException {
    try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
      ImageReader reader = reader(ImageHeaders.GIF);
      try {
        reader.setInput(in, true, false);
        Animator animator = new Animator(source, g, specs, limits, done, loops(reader));
        int frames = animator.animating() ? source.frames() : 1;
        for (int i = 0; i < frames; i++) {
          IIOMetadataNode root = (IIOMetadataNode) reader.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0");
          Node desc = child(root, "ImageDescriptor");
          Node gce = child(root, "GraphicControlExtension");
          Rectangle rect = new Rectangle(attr(desc, "imageLeftPosition", 0), attr(desc, "imageTopPosition", 0),
            attr(desc, "imageWidth", 0), attr(desc, "imageHeight", 0));
          Node disposalAttr = gce == null ? null : gce.getAttributes().getNamedItem("disposalMethod");
          String disposal = disposalAttr == null ? "none" : disposalAttr.getNodeValue();
          checkFrame(rect, limits);
          int delayMs = gce == null ? 0 : attr(gce, "delayTime", 0) * 10;
          Placement at = g.place(rect);
          BufferedImage piece = null;
          if (at != null) {
            ImageReadParam param = reader.getDefaultReadParam();
            param.setSourceRegion(at.source);
            param.setSourceSubsampling(g.sub, g.sub, 0, 0);
            piece = reader.read(i, param);
            observer.decoded(piece);
          }
          BufferedImage saved = "restoreToPrevious".equals(disposal) ? copy(animator.canvas) : null;
          if (piece != null) {
            draw(animator.canvas, piece, at.target, true);
          }
          animator.frame(delayMs);
          if ("restoreToBackgroundColor".equals(disposal) && at != null) {
            clear(animator.canvas, at.target);
          } else if (saved != null) {
            animator.canvas = saved;
          }
        }
        animator.finish();
      } finally {
        reader.dispose();
      }
    }
  }

  /**
   * A frame is decoded whole even when only its part inside the square is kept (LZW and VP8 cannot
   * skip), so a frame larger than the canvas must not get past the source pixel limit either.
   */
  private static void checkFrame(Rectangle frame, RenderLimits limits) throws RenderException {
    if ((long) frame.width * frame.height > limits.maxSourcePixels()) {
      throw new RenderException("a frame of " + frame.width + "x" + frame.height
        + " pixels is more than the " + limits.maxSourcePixels() + " a render may decode");
    }
  }

  /** The NETSCAPE2.0 loop count of the first frame, or -1 when the GIF has none (plays once). */
  private static int loops(ImageReader reader) throws IOException {
    IIOMetadataNode root = (IIOMetadataNode) reader.getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
    Node exts = child(root, "ApplicationExtensions");
    for (Node n = exts == null ? null : exts.getFirstChild(); n != null; n = n.getNextSibling()) {
      Node id = n.getAttributes().getNamedItem("applicationID");
      if (id != null && "NETSCAPE".equals(id.getNodeValue()) && n instanceof IIOMetadataNode node
        && node.getUserObject() instanceof byte[] data && data.length >= 3 && data[0] == 1) {
        return (data[1] & 0xff) | (data[2] & 0xff) << 8;
      }
    }
    return -1;
  }

  private static Node child(Node root, String name) {
    for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n.getNodeName().equals(name)) {
        return n;
      }
    }
    return null;
  }

  private static int attr(Node node, String name, int otherwise) {
    Node a = node == null ? null : node.getAttributes().getNamedItem(name);
    if (a == null) {
      return otherwise;
    }
    try {
      return Integer.parseInt(a.getNodeValue());
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  // ---------------------------------------------------------------- WebP

  private void webp(Path file, SourceInfo source, Geometry g, List<VariantSpec> specs, RenderLimits limits,
    Map<VariantSpec, Rendered> done) throws IOException, RenderException {
    WebpLayout layout = ImageHeaders.webpLayout(file);
    if (!layout.animated()) {
      Placement centre = g.place(new Rectangle(0, 0, source.width(), source.height()));
      // libwebp scales straight to the square kept (its rescaler averages the rows as it decodes them).
      Placement at = new Placement(centre.source, new Rectangle(0, 0, g.out(), g.out()));
      // A file stream knows its length: the reader then holds the file once (a memory stream: three times).
      BufferedImage raster;
      try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
        raster = decodeWebp(in, at);
      }
      observer.decoded(raster);
      stills(Pixels.orient(Pixels.ownArgb(raster), source.orientation()), true, specs, done);
      return;
    }
    Animator animator = new Animator(source, g, specs, limits, done, layout.loops());
    int frames = animator.animating() ? layout.frames().size() : 1;
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      for (int i = 0; i < frames; i++) {
        WebpFrame f = layout.frames().get(i);
        Rectangle rect = new Rectangle(f.x(), f.y(), f.width(), f.height());
        checkFrame(rect, limits);
        Placement at = g.place(rect);
        if (at != null) {
          byte[] data = new byte[(int) f.dataLength()];
          raf.seek(f.dataOffset());
          raf.readFully(data);
          BufferedImage piece;
          try (ImageInputStream in = new BytesInput(standalone(data, f))) {
            piece = decodeWebp(in, at);
          }
          observer.decoded(piece);
          draw(animator.canvas, piece, at.target, f.blend());
        }
        animator.frame(f.durationMs());
        if (f.disposeToBackground() && at != null) {
          clear(animator.canvas, at.target);
        }
      }
    }
    animator.finish();
  }

  /** libwebp decodes the placement's source rectangle straight to the target size (crop + scale). */
  private static BufferedImage decodeWebp(ImageInputStream in, Placement at) throws IOException {
    WebPReader reader = null;
    Iterator<ImageReader> it = ImageIO.getImageReadersByMIMEType(ImageHeaders.WEBP);
    while (it.hasNext() && reader == null) {
      if (it.next() instanceof WebPReader r) {
        reader = r;
      }
    }
    if (reader == null) {
      throw new IOException("webp-imageio's reader is not registered with ImageIO");
    }
    try {
      reader.setInput(in, true, true);
      WebPReadParam param = reader.getDefaultReadParam();
      param.setUseCropping(true);
      param.setCropLeft(at.source.x);
      param.setCropTop(at.source.y);
      param.setCropWidth(at.source.width);
      param.setCropHeight(at.source.height);
      if (at.target.width != at.source.width || at.target.height != at.source.height) {
        param.setUseScaling(true);
        param.setScaledWidth(at.target.width);
        param.setScaledHeight(at.target.height);
      }
      return reader.read(0, param);
    } finally {
      reader.dispose();
    }
  }

  /** An ANMF frame's bitstream chunks (ALPH + VP8, or VP8L) as a WebP file of their own. */
  private static byte[] standalone(byte[] data, WebpFrame f) {
    byte[] alph = null;
    byte[] bitstream = null;
    int pos = 0;
    while (pos + 8 <= data.length) {
      String fourcc = new String(data, pos, 4, StandardCharsets.ISO_8859_1);
      long len = (data[pos + 4] & 0xffL) | (data[pos + 5] & 0xffL) << 8 | (data[pos + 6] & 0xffL) << 16
        | (data[pos + 7] & 0xffL) << 24;
      int end = (int) Math.min(data.length, pos + 8 + len + (len & 1));
      byte[] chunk = java.util.Arrays.copyOfRange(data, pos, end);
      if (fourcc.equals("ALPH")) {
        alph = chunk;
      } else if (fourcc.equals("VP8 ") || fourcc.equals("VP8L")) {
        bitstream = chunk;
        break;
      }
      pos = end;
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes("WEBP".getBytes(StandardCharsets.ISO_8859_1));
    if (alph != null && bitstream != null && bitstream[3] == ' ') {
      body.writeBytes("VP8X".getBytes(StandardCharsets.ISO_8859_1));
      body.writeBytes(new byte[] {10, 0, 0, 0, 0x10, 0, 0, 0,
        (byte) (f.width() - 1), (byte) ((f.width() - 1) >> 8), (byte) ((f.width() - 1) >> 16),
        (byte) (f.height() - 1), (byte) ((f.height() - 1) >> 8), (byte) ((f.height() - 1) >> 16)});
      body.writeBytes(alph);
    }
    if (bitstream != null) {
      body.writeBytes(bitstream);
    }
    ByteArrayOutputStream file = new ByteArrayOutputStream(body.size() + 8);
    file.writeBytes("RIFF".getBytes(StandardCharsets.ISO_8859_1));
    int n = body.size();
    file.writeBytes(new byte[] {(byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) (n >> 24)});
    file.writeBytes(body.toByteArray());
    return file.toByteArray();
  }

  /** An in-memory stream that knows its length (so the WebP reader copies the bytes once, not via a cache). */
  private static final class BytesInput extends ImageInputStreamImpl {
    private final byte[] bytes;

    BytesInput(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int read() {
      bitOffset = 0;
      return streamPos < bytes.length ? bytes[(int) streamPos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      bitOffset = 0;
      if (streamPos >= bytes.length) {
        return -1;
      }
      int n = (int) Math.min(len, bytes.length - streamPos);
      System.arraycopy(bytes, (int) streamPos, b, off, n);
      streamPos += n;
      return n;
    }

    @Override
    public long length() {
      return bytes.length;
    }
  }

  // ---------------------------------------------------------------- canvas

  private static void draw(BufferedImage canvas, BufferedImage piece, Rectangle target, boolean blend) {
    Pixels.draw(canvas, piece, target, blend ? AlphaComposite.SrcOver : AlphaComposite.Src);
  }

  private static void clear(BufferedImage canvas, Rectangle target) {
    Graphics2D g = canvas.createGraphics();
    try {
      g.setComposite(AlphaComposite.Clear);
      g.fillRect(target.x, target.y, target.width, target.height);
    } finally {
      g.dispose();
    }
  }

  private static BufferedImage copy(BufferedImage src) {
    BufferedImage dst = new BufferedImage(src.getWidth(), src.getHeight(), src.getType());
    System.arraycopy(Pixels.data(src), 0, Pixels.data(dst), 0, Pixels.data(src).length);
    return dst;
  }

  /**
   * Receives composited frames on one canvas: the first makes every still variant, and every frame is
   * scaled and appended to each animated variant's encoder.
   */
  private static final class Animator {
    private final SourceInfo source;
    private final List<VariantSpec> specs;
    private final Map<VariantSpec, Rendered> done;
    private final List<VariantSpec> animated = new ArrayList<>();
    private final List<Encoders.Animation> encoders = new ArrayList<>();
    BufferedImage canvas;
    private int index;

    Animator(SourceInfo source, Geometry g, List<VariantSpec> specs, RenderLimits limits,
      Map<VariantSpec, Rendered> done, int loops) throws IOException {
      this.source = source;
      this.specs = specs;
      this.done = done;
      this.canvas = new BufferedImage(g.decoded, g.decoded, BufferedImage.TYPE_INT_ARGB_PRE);
      for (VariantSpec spec : specs) {
        if (animates(source, spec, limits) && !animated.contains(spec)) {
          animated.add(spec);
          encoders.add(Encoders.animation(spec.format(), spec.size(), loops));
        }
      }
    }

    boolean animating() {
      return !animated.isEmpty();
    }

    /**
     * Encodes the canvas as it is now. Nothing here writes to it (the encoders convert a copy of it, or
     * of a scaled level), so it is not copied first; without animated variants it is not read after the
     * first frame, and the stills may convert it where it lies.
     */
    void frame(int delayMs) throws IOException {
      BufferedImage oriented = Pixels.orient(canvas, source.orientation());
      Pixels.Pyramid pyramid = new Pixels.Pyramid(oriented);
      for (int i = 0; i < animated.size(); i++) {
        BufferedImage img = pyramid.get(animated.get(i).size());
        encoders.get(i).add(img, delayMs, !pyramid.isLevel(img));
      }
      if (index++ == 0) {
        List<VariantSpec> stills = new ArrayList<>();
        for (VariantSpec spec : specs) {
          if (!animated.contains(spec)) {
            stills.add(spec);
          }
        }
        JavaRenderer.stills(oriented, oriented != canvas || !animating(), stills, done);
      }
    }

    void finish() throws IOException {
      try {
        for (int i = 0; i < animated.size(); i++) {
          VariantSpec spec = animated.get(i);
          done.put(spec, new Rendered(spec, encoders.get(i).finish(), spec.size(), spec.size(), true));
        }
      } finally {
        encoders.forEach(Encoders.Animation::close);
      }
    }
  }

  /** Where a frame rectangle (source pixels) lands: the part inside the centre square, and its place on the canvas. */
  private record Placement(Rectangle source, Rectangle target) {
  }

  /**
   * The centre square ({@code x}, {@code y}, {@code side}) and the subsampling {@code sub} that brings
   * it to {@code decoded} = ceil(side / sub) ≤ 2 × the largest target per side (never below the target
   * unless the original itself is smaller). Above {@link #MAX_DECODED} a side, the subsampling is raised
   * as far as the target allows (ceil(side / sub) ≥ largest still): a 1024 px variant of a 4096×4096
   * original decodes 1024×1024 pixels, not 2048×2048 (for a 16-bit RGBA PNG a raster of 8 MiB, not 32,
   * and its ARGB copy 4 MiB, not 16), so that two such renders fit beside 1,000 uploads in a 64 MiB heap.
   * Up to 512 px the 2× oversampling (a box step before the bicubic one) is kept whole.
   *
   * <p>Where no integer subsampling reaches {@link #MAX_DECODED} (a 1024 px variant of a 1025–4095 px
   * original decodes 1025–2047 px a side), {@code out}, the side of the square a render keeps, is the
   * larger of the largest target and {@link #MAX_DECODED}: a PNG or JPEG whose reader writes rows in order
   * (or the whole image once per pass)
   * is averaged down to it while it is decoded ({@link StreamedDecode}), a still WebP is scaled to it by
   * libwebp; otherwise (GIF, animated WebP, interlaced PNG, CMYK or ICC-tagged JPEG) {@code out} is
   * only an upper bound and the decoded square is kept whole.
   */
  record Geometry(int x, int y, int side, int sub, int decoded, int out) {
    /** The decoded side beyond which the oversampling gives way to memory. */
    static final int MAX_DECODED = 1024;

    static Geometry of(SourceInfo info, int largest) {
      int side = Math.min(info.width(), info.height());
      int sub = Math.max(1, (int) Math.ceil(side / (2.0 * largest)));
      if (ceilDiv(side, sub) > MAX_DECODED) {
        sub = Math.max(sub, Math.min(ceilDiv(side, MAX_DECODED), side / largest));
      }
      return square((info.width() - side) / 2, (info.height() - side) / 2, side, sub, largest);
    }

    /** The same square one step more subsampled (see {@link JavaRenderer#fit}). */
    Geometry coarser(int largest) {
      return square(x, y, side, sub + 1, largest);
    }

    private static Geometry square(int x, int y, int side, int sub, int largest) {
      int decoded = ceilDiv(side, sub);
      return new Geometry(x, y, side, sub, decoded, Math.min(decoded, Math.max(largest, MAX_DECODED)));
    }

    /** The part of {@code frame} inside the square, in frame coordinates, and its canvas rectangle; null if none. */
    Placement place(Rectangle frame) {
      Rectangle inside = frame.intersection(new Rectangle(x, y, side, side));
      if (inside.isEmpty()) {
        return null;
      }
      int x0 = Math.floorDiv(inside.x - x, sub);
      int y0 = Math.floorDiv(inside.y - y, sub);
      int x1 = Math.min(decoded, ceilDiv(inside.x + inside.width - x, sub));
      int y1 = Math.min(decoded, ceilDiv(inside.y + inside.height - y, sub));
      Rectangle source = new Rectangle(inside.x - frame.x, inside.y - frame.y, inside.width, inside.height);
      return new Placement(source, new Rectangle(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0)));
    }

    private static int ceilDiv(int a, int b) {
      return -Math.floorDiv(-a, b);
    }
  }
}
