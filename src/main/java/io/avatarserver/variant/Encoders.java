package io.avatarserver.variant;

import com.luciad.imageio.webp.WebPWrapper;
import com.luciad.imageio.webp.WebPWriteParam;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.ref.Reference;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Encodes variants without metadata: no EXIF, XMP, ICC or text, only what each format needs to be
 * displayed. JPEG: quality 0.85, RGB composited on white (JFIF header only). PNG: RGB, or ARGB when the
 * variant has transparency. WebP: lossy quality 80 for every source (libwebp keeps an alpha channel
 * losslessly beside the lossy colour), so a variant's size does not depend on the original's encoding.
 * GIF: the JDK's writer quantizes to 256 colours with one transparent index.
 */
final class Encoders {

  static final float JPEG_QUALITY = 0.85f;
  static final float WEBP_QUALITY = 0.80f;
  private static final String GIF_IMAGE = "javax_imageio_gif_image_1.0";

  private Encoders() {
  }

  /**
   * One still image; {@code argb} is premultiplied ARGB, {@code alpha} whether to keep transparency,
   * {@code consume} whether its pixels may be converted for the encoder where they lie (nothing reads
   * them afterwards) instead of in a copy.
   */
  static byte[] still(BufferedImage argb, VariantFormat format, boolean alpha, boolean consume) throws IOException {
    return switch (format) {
      case JPEG -> jpeg(Pixels.forEncoder(argb, false, consume));
      case PNG -> write("png", Pixels.forEncoder(argb, alpha, consume), null);
      case GIF -> write("gif", Pixels.forEncoder(argb, alpha, consume), null);
      case WEBP -> webp(argb, alpha);
    };
  }

  private static byte[] jpeg(BufferedImage rgb) throws IOException {
    ImageWriter w = writer("jpeg");
    try {
      ImageWriteParam p = w.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(JPEG_QUALITY);
      return write(w, rgb, p);
    } finally {
      w.dispose();
    }
  }

  /**
   * A still WebP (lossy q80; alpha kept when {@code alpha}) of a premultiplied ARGB raster. libwebp is
   * given the pixels as bytes converted here straight from {@code argb} (straight RGBA, or RGB over
   * white): the one copy its encoder needs. Through webp-imageio's ImageIO writer the raster would first
   * be converted for the encoder (a straight ARGB copy, unless it may be consumed) and then copied again
   * into those bytes: a third array of the raster's size, 4 MiB at 1024 px, in every frame of an animation.
   */
  static byte[] webp(BufferedImage argb, boolean alpha) throws IOException {
    return webp(Pixels.encoderBytes(argb, alpha, null), argb.getWidth(), argb.getHeight(), alpha);
  }

  /** A still WebP of {@code pixels} ({@link Pixels#encoderBytes}: straight RGBA, or RGB when not {@code alpha}). */
  private static byte[] webp(byte[] pixels, int width, int height, boolean alpha) throws IOException {
    WebPWriteParam param = new WebPWriteParam(Locale.ROOT);
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionType("Lossy");
    param.setCompressionQuality(WEBP_QUALITY);
    try {
      Object options = LibWebp.OPTIONS.invoke(param);
      try {
        return (byte[]) (alpha ? LibWebp.ENCODE_RGBA : LibWebp.ENCODE_RGB).invoke(WebPWrapper.INSTANCE, options,
          pixels, width, height, width * (alpha ? 4 : 3));
      } finally {
        // The options own libwebp's native config, freed by a cleaner once they are unreachable.
        Reference.reachabilityFence(options);
        Reference.reachabilityFence(param);
      }
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException("libwebp could not encode the image", e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * webp-imageio's encoder entry points, which its ImageIO writer calls with the bytes it extracts:
   * {@code WebPWrapper.encodeRGBA/encodeRGB(options, bytes, width, height, stride)}, whose options type is
   * package-private and reached through {@code WebPWriteParam}'s (Kotlin-internal) getter. Looked up once;
   * a version of the library without them fails at the first WebP encode and in the tests, not silently.
   */
  private static final class LibWebp {
    static final Method OPTIONS;
    static final Method ENCODE_RGBA;
    static final Method ENCODE_RGB;

    static {
      try {
        OPTIONS = WebPWriteParam.class.getMethod("getEncoderOptions$webp_imageio");
        Class<?> options = OPTIONS.getReturnType();
        ENCODE_RGBA = WebPWrapper.class.getMethod("encodeRGBA", options, byte[].class, int.class, int.class, int.class);
        ENCODE_RGB = WebPWrapper.class.getMethod("encodeRGB", options, byte[].class, int.class, int.class, int.class);
      } catch (NoSuchMethodException e) {
        throw new ExceptionInInitializerError(e);
      }
    }
  }

  private static byte[] write(String format, BufferedImage img, ImageWriteParam param) throws IOException {
    ImageWriter w = writer(format);
    try {
      return write(w, img, param);
    } finally {
      w.dispose();
    }
  }

  private static byte[] write(ImageWriter w, BufferedImage img, ImageWriteParam param) throws IOException {
    Blocks bytes = new Blocks();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      w.setOutput(out);
      w.write(null, new IIOImage(img, null, null), param);
    }
    return bytes.toByteArray();
  }

  /**
   * The encoded bytes in blocks (8 KiB growing to 256 KiB), copied once into an array of their exact
   * length: at most twice the output is held, where a {@link ByteArrayOutputStream} holds up to three
   * times (its doubled array while it grows, then the copy). A 1024 px PNG of noise is 4 MiB.
   */
  static final class Blocks extends java.io.OutputStream {
    private static final int FIRST = 8 << 10;
    private static final int LARGEST = 256 << 10;
    private final java.util.List<byte[]> full = new java.util.ArrayList<>();
    private byte[] current = new byte[FIRST];
    private int used;
    private int size;

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      while (len > 0) {
        if (used == current.length) {
          full.add(current);
          current = new byte[Math.min(LARGEST, Math.max(FIRST, size))];
          used = 0;
        }
        int n = Math.min(len, current.length - used);
        System.arraycopy(b, off, current, used, n);
        used += n;
        size = Math.addExact(size, n);
        off += n;
        len -= n;
      }
    }

    byte[] toByteArray() {
      byte[] out = new byte[size];
      int at = 0;
      for (byte[] block : full) {
        System.arraycopy(block, 0, out, at, block.length);
        at += block.length;
      }
      System.arraycopy(current, 0, out, at, used);
      return out;
    }
  }

  private static ImageWriter writer(String format) throws IOException {
    Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName(format);
    if (!it.hasNext()) {
      throw new IOException("no ImageIO writer for " + format);
    }
    return it.next();
  }

  /** An animation being encoded frame by frame, so that only one frame is held at a time. */
  interface Animation extends AutoCloseable {
    /**
     * Adds a full-canvas frame (premultiplied ARGB) shown for {@code delayMs} milliseconds; with
     * {@code consume}, its pixels may be converted where they lie (see {@link Encoders#still}).
     */
    void add(BufferedImage argb, int delayMs, boolean consume) throws IOException;

    byte[] finish() throws IOException;

    @Override
    void close();
  }

  /**
   * An animation of {@code size}×{@code size} frames. {@code loops}: as in GIF's NETSCAPE2.0 extension and
   * WebP's ANIM chunk, 0 repeats forever; -1 means the original had no loop count (GIF: no extension; WebP: play once).
   */
  static Animation animation(VariantFormat format, int size, int loops) throws IOException {
    return switch (format) {
      case GIF -> new GifAnimation(loops);
      case WEBP -> new WebpAnimation(size, loops);
      default -> throw new IllegalArgumentException(format + " cannot be animated here");
    };
  }

  /** Animated GIF through the JDK writer's sequence mode: full frames, each cleared after display. */
  private static final class GifAnimation implements Animation {
    private final ImageWriter writer;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final ImageOutputStream out;
    private final int loops;
    private boolean first = true;

    GifAnimation(int loops) throws IOException {
      this.loops = loops;
      this.writer = writer("gif");
      this.out = new MemoryCacheImageOutputStream(bytes);
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
    }

    @Override
    public void add(BufferedImage argb, int delayMs, boolean consume) throws IOException {
      BufferedImage frame = Pixels.forEncoder(argb, true, consume);
      IIOMetadata md = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), null);
      IIOMetadataNode root = (IIOMetadataNode) md.getAsTree(GIF_IMAGE);
      IIOMetadataNode gce = child(root, "GraphicControlExtension");
      gce.setAttribute("disposalMethod", "restoreToBackgroundColor");
      gce.setAttribute("userInputFlag", "FALSE");
      gce.setAttribute("delayTime", Integer.toString(Math.min(65535, Math.max(0, delayMs / 10))));
      if (!gce.hasAttribute("transparentColorFlag")) {
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("transparentColorIndex", "0");
      }
      if (first && loops >= 0) {
        IIOMetadataNode ext = new IIOMetadataNode("ApplicationExtension");
        ext.setAttribute("applicationID", "NETSCAPE");
        ext.setAttribute("authenticationCode", "2.0");
        ext.setUserObject(new byte[] {1, (byte) loops, (byte) (loops >> 8)});
        child(root, "ApplicationExtensions").appendChild(ext);
      }
      first = false;
      md.setFromTree(GIF_IMAGE, root);
      writer.writeToSequence(new IIOImage(frame, null, md), null);
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
      for (int i = 0; i < root.getLength(); i++) {
        if (root.item(i).getNodeName().equals(name)) {
          return (IIOMetadataNode) root.item(i);
        }
      }
      IIOMetadataNode node = new IIOMetadataNode(name);
      root.appendChild(node);
      return node;
    }

    @Override
    public byte[] finish() throws IOException {
      writer.endWriteSequence();
      out.close();
      return bytes.toByteArray();
    }

    @Override
    public void close() {
      writer.dispose();
    }
  }

  /**
   * Animated WebP: each full frame is encoded by libwebp as a still WebP (lossy q80 with alpha), its
   * bitstream chunks (ALPH, VP8 or VP8L) are wrapped in an ANMF chunk, and the file gets a VP8X header
   * with the animation flag and an ANIM chunk holding the loop count (the RIFF container, written here).
   */
  private static final class WebpAnimation implements Animation {
    private final int size;
    private final int loops;
    private final ByteArrayOutputStream frames = new ByteArrayOutputStream();
    private byte[] pixels;

    WebpAnimation(int size, int loops) {
      this.size = size;
      this.loops = loops < 0 ? 1 : loops;
    }

    @Override
    public void add(BufferedImage argb, int delayMs, boolean consume) throws IOException {
      // One array for every frame's pixels: at 1024 px each is 4 MiB, for G1 a humongous object of 5
      // regions in a row, which a small heap beside many uploads may not find free again and again.
      pixels = Pixels.encoderBytes(argb, true, pixels);
      byte[] still = webp(pixels, argb.getWidth(), argb.getHeight(), true);
      ByteArrayOutputStream anmf = new ByteArrayOutputStream();
      le(anmf, 0, 3);
      le(anmf, 0, 3);
      le(anmf, argb.getWidth() - 1, 3);
      le(anmf, argb.getHeight() - 1, 3);
      le(anmf, Math.min(0xffffff, Math.max(0, delayMs)), 3);
      anmf.write(0x02); // do not blend: every frame is the full canvas; no disposal
      int pos = 12;
      while (pos + 8 <= still.length) {
        String fourcc = new String(still, pos, 4, StandardCharsets.ISO_8859_1);
        int len = (int) ((still[pos + 4] & 0xffL) | (still[pos + 5] & 0xffL) << 8 | (still[pos + 6] & 0xffL) << 16
          | (still[pos + 7] & 0xffL) << 24);
        int padded = len + (len & 1);
        if (fourcc.equals("ALPH") || fourcc.equals("VP8 ") || fourcc.equals("VP8L")) {
          anmf.write(still, pos, Math.min(8 + padded, still.length - pos));
        }
        pos += 8 + padded;
      }
      chunk(frames, "ANMF", anmf.toByteArray());
    }

    @Override
    public byte[] finish() throws IOException {
      pixels = null; // the frames are encoded: their pixel array may go
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.writeBytes("WEBP".getBytes(StandardCharsets.ISO_8859_1));
      ByteArrayOutputStream vp8x = new ByteArrayOutputStream();
      vp8x.write(0x02 | 0x10); // animation, alpha
      le(vp8x, 0, 3);
      le(vp8x, size - 1, 3);
      le(vp8x, size - 1, 3);
      chunk(body, "VP8X", vp8x.toByteArray());
      ByteArrayOutputStream anim = new ByteArrayOutputStream();
      le(anim, 0, 4); // background: transparent
      le(anim, loops, 2);
      chunk(body, "ANIM", anim.toByteArray());
      frames.writeTo(body);
      ByteArrayOutputStream file = new ByteArrayOutputStream(body.size() + 8);
      file.writeBytes("RIFF".getBytes(StandardCharsets.ISO_8859_1));
      le(file, body.size(), 4);
      body.writeTo(file);
      return file.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String fourcc, byte[] payload) {
      out.writeBytes(fourcc.getBytes(StandardCharsets.ISO_8859_1));
      le(out, payload.length, 4);
      out.writeBytes(payload);
      if ((payload.length & 1) != 0) {
        out.write(0);
      }
    }

    private static void le(ByteArrayOutputStream out, long value, int bytes) {
      for (int i = 0; i < bytes; i++) {
        out.write((int) (value >> (8 * i)) & 0xff);
      }
    }

    @Override
    public void close() {
    }
  }
}
