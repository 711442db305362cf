package io.avatarserver.variant.vips;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import io.avatarserver.variant.RenderException;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.Renderer;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The libvips render engine. Every method BLOCKS (worker threads only) and frees every native object
 * it makes before it returns, whatever happens.
 *
 * <p>How a render goes:
 * <ul>
 *   <li>The header is read first (sequential access, no pixels) and checked: it must be a JPEG, PNG,
 *       WebP or GIF (every other libvips loader is blocked, see {@link Vips}), of the declared media
 *       type, and within {@link RenderLimits#maxSourcePixels()} per frame.</li>
 *   <li>Still variants: one {@code vips_thumbnail_source} to the largest size, with
 *       {@code crop=centre}, EXIF orientation applied, shrink-on-load for JPEG (1/2, 1/4, 1/8) and WebP,
 *       {@code fail_on=error} (a truncated or corrupt original is refused, not half-grey), into memory;
 *       the smaller sizes are resized from that square.</li>
 *   <li>Animated variants (WebP or GIF output, not {@code firstFrameOnly}, and
 *       {@link RenderLimits#keepsAnimation}: at most {@link RenderLimits#maxAnimationFrames()} frames,
 *       frames × source pixels at most {@link RenderLimits#maxAnimationSourcePixels()}, size² × frames
 *       at most {@link RenderLimits#maxAnimationPixels()}): all frames are loaded, the centre square of each
 *       frame is cut out and the strip of squares is resized to the largest animated size (delays and
 *       loop count kept); smaller animated sizes are resized from it. When the largest still variant is
 *       no larger, the stills are the first frame of that same decode. Otherwise the first frame.</li>
 *   <li>Encoding strips all metadata; JPEG has no alpha, so transparent pixels are flattened on
 *       white. An animated original with an EXIF orientation other than 1 is rendered as its (rotated)
 *       first frame.</li>
 * </ul>
 * {@link SourceInfo}'s width and height are the stored ones (before the orientation is applied), the
 * height being one frame's.
 */
public final class VipsRenderer implements Renderer {

  private static final Object END = Vips.END;
  private static final int INTERESTING_CENTRE = 1; // VipsInteresting
  private static final int FAIL_ON_ERROR = 2; // VipsFailOn
  private static final int ACCESS_SEQUENTIAL = 1; // VipsAccess
  private static final int JPEG_QUALITY = 85;
  private static final int WEBP_QUALITY = 80;

  private final Vips vips;
  private final VipsLib lib;

  public VipsRenderer(Vips vips) {
    this.vips = vips;
    this.lib = vips.lib();
  }

  /** The engine on this machine's libvips. */
  public static VipsRenderer load() throws VipsUnavailableException {
    return new VipsRenderer(Vips.load());
  }

  @Override
  public String name() {
    return "vips";
  }

  /** The loaded libvips' version, for logs. */
  public String version() {
    return vips.version();
  }

  @Override
  public SourceInfo probe(Path original, String mediaType) throws IOException, RenderException {
    try (Natives n = new Natives()) {
      Header h = header(n, openSource(n, original));
      checkType(h, mediaType);
      return new SourceInfo(h.mediaType, h.width, h.pageHeight, h.frames, h.orientation);
    }
  }

  @Override
  public List<Rendered> render(Path original, SourceInfo info, List<VariantSpec> specs, RenderLimits limits)
    throws IOException, RenderException {
    if (specs.isEmpty()) {
      return List.of();
    }
    try (Natives n = new Natives()) {
      Opened opened = openSource(n, original);
      Pointer source = opened.source();
      Header h = header(n, opened);
      checkType(h, info.mediaType());
      long pixels = (long) h.width * h.pageHeight;
      if (pixels > limits.maxSourcePixels()) {
        throw new RenderException("the image has " + h.width + "×" + h.pageHeight + " = " + pixels
          + " pixels, more than the " + limits.maxSourcePixels() + " a render may decode");
      }

      List<VariantSpec> animated = new ArrayList<>();
      List<VariantSpec> still = new ArrayList<>();
      for (VariantSpec spec : specs) {
        (keepsAnimation(h, spec, limits) ? animated : still).add(spec);
      }
      Map<VariantSpec, Rendered> done = new IdentityHashMap<>();

      int animatedMax = animated.stream().mapToInt(VariantSpec::size).max().orElse(0);
      int stillMax = still.stream().mapToInt(VariantSpec::size).max().orElse(0);
      Pointer strip = null;
      if (!animated.isEmpty()) {
        strip = animatedStrip(n, source, h, animatedMax);
        animated.sort(Comparator.comparingInt(VariantSpec::size).reversed());
        for (VariantSpec spec : animated) {
          Pointer image = spec.size() == animatedMax ? strip : resize(n, strip, spec.size(), false);
          done.put(spec, encode(n, image, spec, h.frames));
        }
      }
      if (!still.isEmpty()) {
        Pointer base;
        int baseSize;
        if (strip != null && animatedMax >= stillMax) {
          base = firstFrame(n, strip, animatedMax);
          baseSize = animatedMax;
        } else {
          base = stillSquare(n, source, stillMax);
          baseSize = stillMax;
        }
        for (VariantSpec spec : still) {
          Pointer image = spec.size() == baseSize ? base : resize(n, base, spec.size(), true);
          done.put(spec, encode(n, image, spec, 1));
        }
      }
      List<Rendered> out = new ArrayList<>(specs.size());
      for (VariantSpec spec : specs) {
        out.add(done.get(spec));
      }
      return out;
    }
  }

  private static boolean keepsAnimation(Header h, VariantSpec spec, RenderLimits limits) {
    return !spec.firstFrameOnly()
      && (spec.format() == VariantFormat.WEBP || spec.format() == VariantFormat.GIF)
      && h.orientation == 1
      && limits.keepsAnimation(h.frames, (long) h.width * h.pageHeight, spec.size());
  }

  // --- reading ---------------------------------------------------------------------------------

  private Opened openSource(Natives n, Path file) throws IOException, RenderException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString());
    }
    if (!Files.isReadable(file)) {
      throw new IOException("cannot read " + file);
    }
    String sniffed = sniff(file);
    // A source, not a file name: libvips would parse "name[options]" out of a file name.
    return new Opened(n.object(lib.vips_source_new_from_file(file.toString()), "open " + file.getFileName()),
      sniffed);
  }

  /**
   * The media type the file's first bytes announce, checked here before libvips sees the file: the
   * loader blocks do not cover every path (libvips opens its own {@code .v} format directly, and
   * reports the loader named in that file's metadata).
   */
  static String sniff(Path file) throws IOException, RenderException {
    byte[] head = new byte[12];
    int read;
    try (java.io.InputStream in = Files.newInputStream(file)) {
      read = in.readNBytes(head, 0, head.length);
    }
    if (read >= 3 && (head[0] & 0xff) == 0xFF && (head[1] & 0xff) == 0xD8 && (head[2] & 0xff) == 0xFF) {
      return "image/jpeg";
    }
    if (read >= 8 && (head[0] & 0xff) == 0x89 && ascii(head, 1, "PNG\r\n\u001a\n")) {
      return "image/png";
    }
    if (read >= 6 && (ascii(head, 0, "GIF87a") || ascii(head, 0, "GIF89a"))) {
      return "image/gif";
    }
    if (read >= 12 && ascii(head, 0, "RIFF") && ascii(head, 8, "WEBP")) {
      return "image/webp";
    }
    throw new RenderException("not a JPEG, PNG, WebP or GIF image");
  }

  private record Opened(Pointer source, String sniffed) {
  }

  private Header header(Natives n, Opened opened) throws RenderException {
    Pointer source = opened.source();
    Pointer image = n.object(vips.openHeader(source), "read the header");
    PointerByReference loader = new PointerByReference();
    if (lib.vips_image_get_string(image, "vips-loader", loader) != 0) {
      throw new RenderException("libvips: " + vips.takeError());
    }
    String mediaType = mediaTypeOfLoader(loader.getValue().getString(0));
    if (!mediaType.equals(opened.sniffed())) {
      throw new RenderException("the file starts as " + opened.sniffed() + " but reads as " + mediaType);
    }
    int width = lib.vips_image_get_width(image);
    int pageHeight = lib.vips_image_get_page_height(image);
    int frames = Math.max(1, lib.vips_image_get_n_pages(image));
    int orientation = lib.vips_image_get_orientation(image);
    if (orientation < 1 || orientation > 8) {
      orientation = 1;
    }
    if (width < 1 || pageHeight < 1) {
      throw new RenderException("the image has no pixels (" + width + "×" + pageHeight + ")");
    }
    n.release(image);
    return new Header(mediaType, width, pageHeight, frames, orientation);
  }

  private static String mediaTypeOfLoader(String loader) throws RenderException {
    if (loader.startsWith("jpegload")) {
      return "image/jpeg";
    }
    if (loader.startsWith("pngload")) {
      return "image/png";
    }
    if (loader.startsWith("webpload")) {
      return "image/webp";
    }
    if (loader.startsWith("gifload")) {
      return "image/gif";
    }
    // Cannot happen while the other loaders are blocked; refuse rather than trust it.
    throw new RenderException("unsupported image format (" + loader + ")");
  }

  private static void checkType(Header h, String declared) throws RenderException {
    if (declared == null) {
      return;
    }
    Optional<VariantFormat> format = VariantFormat.ofMediaType(declared);
    if (format.isEmpty()) {
      throw new RenderException("unsupported media type " + declared);
    }
    if (!format.get().mediaType().equals(h.mediaType)) {
      throw new RenderException("the file is " + h.mediaType + ", not the declared " + declared);
    }
  }

  // --- decoding --------------------------------------------------------------------------------

  /** One frame (the first), oriented, centre-cropped to size×size, in memory. */
  private Pointer stillSquare(Natives n, Pointer source, int size) throws RenderException {
    PointerByReference out = new PointerByReference();
    check(n, lib.vips_thumbnail_source(source, out, size,
      "height", size, "crop", INTERESTING_CENTRE,
      // 8.14's thumbnail_source does not pass its own fail_on to the loader: say it to the loader.
      "option_string", "fail_on=error", END), out, "decode");
    Pointer square = n.object(lib.vips_image_copy_memory(out.getValue()), "decode");
    n.release(out.getValue());
    checkSize(square, size, size);
    // A first frame is one page, whatever the original's page-height said.
    lib.vips_image_set_int(square, "page-height", size);
    return square;
  }

  /** Every frame's centre square, resized to size×size, as one strip in memory (page-height = size). */
  private Pointer animatedStrip(Natives n, Pointer source, Header h, int size) throws RenderException {
    Pointer all = n.object(lib.vips_image_new_from_source(source, "",
      "n", h.frames, "access", ACCESS_SEQUENTIAL, "fail_on", FAIL_ON_ERROR, END), "decode the frames");
    int width = lib.vips_image_get_width(all);
    int pageHeight = lib.vips_image_get_page_height(all);
    int pages = lib.vips_image_get_height(all) / pageHeight;
    if (pages != h.frames || width != h.width || pageHeight != h.pageHeight) {
      throw new RenderException("the frames do not match the header (" + pages + " frames of " + width + "×"
        + pageHeight + ")");
    }
    int side = Math.min(width, pageHeight);
    int left = (width - side) / 2;
    int top = (pageHeight - side) / 2;
    Pointer[] squares = new Pointer[pages];
    for (int page = 0; page < pages; page++) {
      PointerByReference cut = new PointerByReference();
      check(n, lib.vips_extract_area(all, cut, left, page * pageHeight + top, side, side, END), cut, "crop");
      squares[page] = cut.getValue();
    }
    PointerByReference joined = new PointerByReference();
    check(n, lib.vips_arrayjoin(squares, joined, pages, "across", 1, END), joined, "join the frames");
    PointerByReference paged = new PointerByReference();
    check(n, lib.vips_copy(joined.getValue(), paged, END), paged, "join the frames");
    lib.vips_image_set_int(paged.getValue(), "page-height", side);
    PointerByReference resized = new PointerByReference();
    check(n, lib.vips_thumbnail_image(paged.getValue(), resized, size, "height", size, END), resized, "resize");
    Pointer strip = n.object(lib.vips_image_copy_memory(resized.getValue()), "decode the frames");
    // The pipeline is evaluated: drop it (and the decoded frames) now.
    n.release(resized.getValue());
    n.release(paged.getValue());
    n.release(joined.getValue());
    for (Pointer square : squares) {
      n.release(square);
    }
    n.release(all);
    checkSize(strip, size, size * pages);
    lib.vips_image_set_int(strip, "page-height", size);
    return strip;
  }

  private Pointer firstFrame(Natives n, Pointer strip, int size) throws RenderException {
    PointerByReference cut = new PointerByReference();
    check(n, lib.vips_extract_area(strip, cut, 0, 0, size, size, END), cut, "crop");
    PointerByReference single = new PointerByReference();
    check(n, lib.vips_copy(cut.getValue(), single, END), single, "crop");
    lib.vips_image_set_int(single.getValue(), "page-height", size);
    return single.getValue();
  }

  /** A square (or a strip of squares) resized to size×size per page; crop only absorbs rounding. */
  private Pointer resize(Natives n, Pointer square, int size, boolean single) throws RenderException {
    PointerByReference out = new PointerByReference();
    int result = single
      ? lib.vips_thumbnail_image(square, out, size, "height", size, "crop", INTERESTING_CENTRE, END)
      : lib.vips_thumbnail_image(square, out, size, "height", size, END);
    check(n, result, out, "resize");
    return out.getValue();
  }

  // --- encoding --------------------------------------------------------------------------------

  private Rendered encode(Natives n, Pointer image, VariantSpec spec, int pages) throws RenderException {
    checkSize(image, spec.size(), spec.size() * pages);
    PointerByReference buf = new PointerByReference();
    LongByReference len = new LongByReference();
    int result = switch (spec.format()) {
      case JPEG -> lib.vips_jpegsave_buffer(opaque(n, image), buf, len,
        "Q", JPEG_QUALITY, "optimize_coding", 1, "strip", 1, END);
      case PNG -> lib.vips_pngsave_buffer(image, buf, len, "strip", 1, END);
      case WEBP -> lib.vips_webpsave_buffer(image, buf, len, "Q", WEBP_QUALITY, "strip", 1, END);
      case GIF -> lib.vips_gifsave_buffer(image, buf, len, "strip", 1, END);
    };
    Pointer mem = buf.getValue();
    try {
      if (result != 0 || mem == null) {
        throw new RenderException("libvips could not encode " + spec.format().extension() + ": " + vips.takeError());
      }
      byte[] bytes = mem.getByteArray(0, Math.toIntExact(len.getValue()));
      if (spec.format() == VariantFormat.WEBP) {
        // libvips 8.14's webpsave writes a fresh EXIF block even with strip=TRUE.
        bytes = stripWebp(bytes);
      }
      return new Rendered(spec, bytes, spec.size(), spec.size(), pages > 1);
    } finally {
      if (mem != null) {
        lib.g_free(mem);
      }
    }
  }

  /** The image without alpha: transparent pixels on white. */
  private Pointer opaque(Natives n, Pointer image) throws RenderException {
    if (lib.vips_image_hasalpha(image) == 0) {
      return image;
    }
    Pointer white = lib.vips_array_double_new(new double[] {255}, 1);
    try {
      PointerByReference out = new PointerByReference();
      check(n, lib.vips_flatten(image, out, "background", white, END), out, "flatten");
      return out.getValue();
    } finally {
      lib.vips_area_unref(white);
    }
  }

  /**
   * The WebP without its EXIF, XMP and ICC chunks, and with the VP8X flags that announce them cleared.
   * Anything that is not a well-formed RIFF/WEBP container is returned as it is.
   */
  static byte[] stripWebp(byte[] webp) {
    if (webp.length < 12 || !ascii(webp, 0, "RIFF") || !ascii(webp, 8, "WEBP")) {
      return webp;
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(webp.length);
    out.write(webp, 0, 12);
    int i = 12;
    while (i + 8 <= webp.length) {
      int size = (webp[i + 4] & 0xff) | (webp[i + 5] & 0xff) << 8 | (webp[i + 6] & 0xff) << 16
        | (webp[i + 7] & 0xff) << 24;
      int padded = size + (size & 1);
      if (size < 0 || i + 8 + padded > webp.length) {
        return webp;
      }
      if (ascii(webp, i, "EXIF") || ascii(webp, i, "XMP ") || ascii(webp, i, "ICCP")) {
        i += 8 + padded;
        continue;
      }
      int start = out.size();
      out.write(webp, i, 8 + padded);
      if (ascii(webp, i, "VP8X") && size >= 1) {
        byte[] sofar = out.toByteArray();
        sofar[start + 8] &= (byte) ~(0x20 | 0x08 | 0x04); // ICC, EXIF, XMP
        out.reset();
        out.write(sofar, 0, sofar.length);
      }
      i += 8 + padded;
    }
    if (i != webp.length) {
      return webp;
    }
    byte[] stripped = out.toByteArray();
    int riff = stripped.length - 8;
    stripped[4] = (byte) riff;
    stripped[5] = (byte) (riff >>> 8);
    stripped[6] = (byte) (riff >>> 16);
    stripped[7] = (byte) (riff >>> 24);
    return stripped;
  }

  private static boolean ascii(byte[] b, int at, String tag) {
    for (int k = 0; k < tag.length(); k++) {
      if (b[at + k] != tag.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  // --- bookkeeping -----------------------------------------------------------------------------

  private void check(Natives n, int result, PointerByReference out, String what) throws RenderException {
    Pointer image = out.getValue();
    if (image != null) {
      n.track(image);
    }
    if (result != 0 || image == null) {
      throw new RenderException("libvips could not " + what + " the image: " + vips.takeError());
    }
  }

  private void checkSize(Pointer image, int width, int height) throws RenderException {
    int w = lib.vips_image_get_width(image);
    int h = lib.vips_image_get_height(image);
    if (w != width || h != height) {
      throw new RenderException("libvips made " + w + "×" + h + " instead of " + width + "×" + height);
    }
  }

  private record Header(String mediaType, int width, int pageHeight, int frames, int orientation) {
  }

  /** The native objects of one call, unreferenced in reverse order when it ends. */
  private final class Natives implements AutoCloseable {
    private final Deque<Pointer> objects = new ArrayDeque<>();

    Pointer object(Pointer object, String what) throws RenderException {
      if (object == null) {
        throw new RenderException("libvips could not " + what + ": " + vips.takeError());
      }
      return track(object);
    }

    Pointer track(Pointer object) {
      objects.push(object);
      return object;
    }

    /** Unreferences an object early (its memory is no longer needed). */
    void release(Pointer object) {
      if (objects.removeFirstOccurrence(object)) {
        lib.g_object_unref(object);
      }
    }

    @Override
    public void close() {
      while (!objects.isEmpty()) {
        lib.g_object_unref(objects.pop());
      }
    }
  }
}
