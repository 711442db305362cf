package io.avatarserver.variant;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads what the pure-Java renderer needs from an original's header by walking its structure, never
 * decoding a pixel: dimensions, frame count (GIF image descriptors; animated WebP ANMF chunks), the
 * EXIF orientation (JPEG APP1, WebP EXIF chunk), and for animated WebP where each frame's bitstream
 * lies. Everything is bounds-checked against the file: a truncated or garbled header is a
 * {@link RenderException}, never an unchecked exception.
 */
final class ImageHeaders {

  static final String PNG = "image/png";
  static final String JPEG = "image/jpeg";
  static final String GIF = "image/gif";
  static final String WEBP = "image/webp";

  private ImageHeaders() {
  }

  /** The header of {@code file}; its media type comes from its magic bytes, not from any claim. */
  static SourceInfo probe(Path file) throws IOException, RenderException {
    try (Cursor in = new Cursor(file)) {
      byte[] magic = in.peek(12);
      if (magic.length >= 8 && (magic[0] & 0xff) == 0x89 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G') {
        return png(in);
      }
      if (magic.length >= 3 && (magic[0] & 0xff) == 0xFF && (magic[1] & 0xff) == 0xD8 && (magic[2] & 0xff) == 0xFF) {
        return jpeg(in);
      }
      if (magic.length >= 6 && magic[0] == 'G' && magic[1] == 'I' && magic[2] == 'F' && magic[3] == '8') {
        return gif(in);
      }
      if (magic.length >= 12 && ascii(magic, 0, 4).equals("RIFF") && ascii(magic, 8, 4).equals("WEBP")) {
        WebpLayout layout = webp(in);
        return layout.info();
      }
      throw new RenderException("not a PNG, JPEG, GIF or WebP image");
    } catch (EOFException e) {
      throw new RenderException("truncated image header", e);
    }
  }

  /** The chunk layout of a WebP file (frames of an animated one), for the renderer. */
  static WebpLayout webpLayout(Path file) throws IOException, RenderException {
    try (Cursor in = new Cursor(file)) {
      return webp(in);
    } catch (EOFException e) {
      throw new RenderException("truncated WebP", e);
    }
  }

  private static SourceInfo png(Cursor in) throws IOException, RenderException {
    in.skip(8);
    byte[] ihdr = in.read(8 + 13);
    if (!ascii(ihdr, 4, 4).equals("IHDR") || be32(ihdr, 0) != 13) {
      throw new RenderException("PNG without IHDR first");
    }
    return info(PNG, be32(ihdr, 8), be32(ihdr, 12), 1, 1);
  }

  private static SourceInfo jpeg(Cursor in) throws IOException, RenderException {
    JpegFrame frame = jpegFrame(in);
    return info(JPEG, frame.width(), frame.height(), 1, frame.orientation());
  }

  /**
   * What the JPEG's header says up to its frame header: the SOF marker, size, components, EXIF
   * orientation and whether an ICC profile (APP2) came before.
   */
  private record JpegFrame(int marker, int width, int height, int components, int orientation, boolean icc) {
  }

  private static JpegFrame jpegFrame(Cursor in) throws IOException, RenderException {
    in.skip(2);
    int orientation = 1;
    boolean icc = false;
    while (true) {
      int b = in.u8();
      if (b != 0xFF) {
        throw new RenderException("JPEG marker expected");
      }
      int marker = in.u8();
      while (marker == 0xFF) {
        marker = in.u8();
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        continue;
      }
      if (marker == 0xD9 || marker == 0xDA) {
        throw new RenderException("JPEG without a frame header before its scan");
      }
      int length = in.u16be();
      if (length < 2) {
        throw new RenderException("JPEG segment length below 2");
      }
      boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        byte[] seg = in.read(Math.min(length - 2, 6));
        if (seg.length < 5) {
          throw new RenderException("JPEG frame header too short");
        }
        return new JpegFrame(marker, u16be(seg, 3), u16be(seg, 1), seg.length > 5 ? seg[5] & 0xff : 0,
          orientation, icc);
      }
      if (marker == 0xE1 && orientation == 1) {
        byte[] seg = in.read(length - 2);
        if (seg.length > 6 && ascii(seg, 0, 4).equals("Exif") && seg[4] == 0 && seg[5] == 0) {
          orientation = exifOrientation(seg, 6, seg.length - 6);
        }
      } else if (marker == 0xE2) {
        byte[] seg = in.read(Math.min(length - 2, 12));
        icc |= seg.length >= 11 && ascii(seg, 0, 11).equals("ICC_PROFILE");
        in.skip(length - 2 - seg.length);
      } else {
        in.skip(length - 2);
      }
    }
  }

  /** How ImageIO's reader for a file writes its pixels into the destination (see {@link StreamedDecode}). */
  enum RowOrder {
    /** Not row by row, or through a full-size raster of its own: decoded whole. */
    WHOLE,
    /** Row by row, top to bottom, each row once. */
    ROWS,
    /** Row by row, top to bottom, once per pass, each pass whole (the last one is the image). */
    PASSES
  }

  /**
   * How ImageIO's reader for {@code file} writes its pixels ({@link RowOrder}): {@code ROWS} for a PNG
   * without interlacing and a sequential JPEG (SOF0/SOF1) of 1 or 3 components without an ICC profile,
   * which TwelveMonkeys hands to the JDK's reader; {@code PASSES} for such a JPEG that is progressive
   * (SOF2), which the JDK's reader writes whole once per scan; {@code WHOLE} for anything else (an
   * interlaced PNG writes its rows piecewise over seven passes; a CMYK/YCCK JPEG or one with a profile
   * TwelveMonkeys reads whole as a raster and converts).
   */
  static RowOrder rowOrder(Path file) throws IOException, RenderException {
    try (Cursor in = new Cursor(file)) {
      byte[] magic = in.peek(8);
      if (magic.length >= 8 && (magic[0] & 0xff) == 0x89 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G') {
        byte[] head = in.read(8 + 8 + 13);
        return head.length == 29 && head[28] == 0 ? RowOrder.ROWS : RowOrder.WHOLE;
      }
      if (magic.length >= 3 && (magic[0] & 0xff) == 0xFF && (magic[1] & 0xff) == 0xD8) {
        JpegFrame frame = jpegFrame(in);
        if (frame.icc() || frame.components() != 1 && frame.components() != 3) {
          return RowOrder.WHOLE;
        }
        return switch (frame.marker()) {
          case 0xC0, 0xC1 -> RowOrder.ROWS;
          case 0xC2 -> RowOrder.PASSES;
          default -> RowOrder.WHOLE;
        };
      }
      return RowOrder.WHOLE;
    } catch (EOFException e) {
      throw new RenderException("truncated image header", e);
    }
  }

  private static SourceInfo gif(Cursor in) throws IOException, RenderException {
    byte[] head = in.read(13);
    String version = ascii(head, 0, 6);
    if (!version.equals("GIF87a") && !version.equals("GIF89a")) {
      throw new RenderException("unknown GIF version");
    }
    int width = u16le(head, 6);
    int height = u16le(head, 8);
    int packed = head[10] & 0xff;
    if ((packed & 0x80) != 0) {
      in.skip(3 << ((packed & 7) + 1));
    }
    int frames = 0;
    while (true) {
      int block = in.u8();
      if (block == 0x3B) {
        break;
      } else if (block == 0x21) {
        in.u8();
        skipSubBlocks(in);
      } else if (block == 0x2C) {
        byte[] desc = in.read(9);
        int flags = desc[8] & 0xff;
        if ((flags & 0x80) != 0) {
          in.skip(3 << ((flags & 7) + 1));
        }
        in.u8();
        skipSubBlocks(in);
        frames++;
      } else {
        // Trailing junk after the last frame is common and harmless; anything before the first is not.
        if (frames == 0) {
          throw new RenderException("GIF block expected");
        }
        break;
      }
    }
    if (frames == 0) {
      throw new RenderException("GIF without an image");
    }
    return info(GIF, width, height, frames, 1);
  }

  private static void skipSubBlocks(Cursor in) throws IOException {
    for (int n = in.u8(); n != 0; n = in.u8()) {
      in.skip(n);
    }
  }

  private static WebpLayout webp(Cursor in) throws IOException, RenderException {
    byte[] riff = in.read(12);
    long end = Math.min(in.size(), 8 + le32(riff, 4));
    long pos = 12;
    int width = -1;
    int height = -1;
    int orientation = 1;
    boolean vp8x = false;
    boolean animated = false;
    int loops = 0;
    List<WebpFrame> frames = new ArrayList<>();
    while (pos + 8 <= end) {
      byte[] header = in.read(8);
      String fourcc = ascii(header, 0, 4);
      long size = le32(header, 4);
      long payload = pos + 8;
      if (payload + size > in.size()) {
        throw new RenderException("truncated WebP chunk " + fourcc);
      }
      switch (fourcc) {
        case "VP8X" -> {
          byte[] p = in.read((int) Math.min(size, 10));
          if (pos != 12 || p.length < 10) {
            throw new RenderException("misplaced or short VP8X chunk");
          }
          vp8x = true;
          animated = (p[0] & 0x02) != 0;
          width = u24le(p, 4) + 1;
          height = u24le(p, 7) + 1;
        }
        case "VP8 ", "VP8L" -> {
          int[] dims = bitstreamSize(fourcc, in.read((int) Math.min(size, 10)));
          if (!vp8x) {
            width = dims[0];
            height = dims[1];
          }
        }
        case "ANIM" -> {
          byte[] p = in.read((int) Math.min(size, 6));
          if (p.length == 6) {
            loops = u16le(p, 4);
          }
        }
        case "ANMF" -> {
          byte[] p = in.read((int) Math.min(size, 16));
          if (p.length < 16) {
            throw new RenderException("short ANMF chunk");
          }
          frames.add(new WebpFrame(u24le(p, 0) * 2, u24le(p, 3) * 2, u24le(p, 6) + 1, u24le(p, 9) + 1,
            u24le(p, 12), p[15] & 0xff, payload + 16, size - 16));
        }
        case "EXIF" -> {
          if (size <= 1 << 20) {
            byte[] p = in.read((int) size);
            int tiff = p.length > 6 && ascii(p, 0, 4).equals("Exif") ? 6 : 0;
            orientation = exifOrientation(p, tiff, p.length - tiff);
          }
        }
        default -> {
        }
      }
      pos = payload + size + (size & 1);
      in.seek(pos);
    }
    if (width <= 0 || height <= 0) {
      throw new RenderException("WebP without an image");
    }
    if (animated && frames.isEmpty()) {
      throw new RenderException("animated WebP without a frame");
    }
    int frameCount = animated ? frames.size() : 1;
    SourceInfo info = info(WEBP, width, height, frameCount, orientation);
    return new WebpLayout(info, animated, loops, List.copyOf(frames));
  }

  private static int[] bitstreamSize(String fourcc, byte[] p) throws RenderException {
    if (fourcc.equals("VP8L")) {
      if (p.length < 5 || (p[0] & 0xff) != 0x2f) {
        throw new RenderException("bad VP8L header");
      }
      long bits = le32(p, 1);
      return new int[] {(int) (bits & 0x3fff) + 1, (int) ((bits >> 14) & 0x3fff) + 1};
    }
    if (p.length < 10 || (p[3] & 0xff) != 0x9d || (p[4] & 0xff) != 0x01 || (p[5] & 0xff) != 0x2a) {
      throw new RenderException("bad VP8 header");
    }
    return new int[] {u16le(p, 6) & 0x3fff, u16le(p, 8) & 0x3fff};
  }

  private static SourceInfo info(String type, int width, int height, int frames, int orientation)
    throws RenderException {
    if (width <= 0 || height <= 0) {
      throw new RenderException("image without pixels (" + width + "x" + height + ")");
    }
    return new SourceInfo(type, width, height, frames, orientation);
  }

  /** The orientation (1–8) from a TIFF structure; 1 when absent or malformed (a broken EXIF is ignored). */
  static int exifOrientation(byte[] b, int offset, int length) {
    int orientation = io.avatarserver.upload.image.Exif.orientation(b, offset, length);
    return orientation == 0 ? 1 : orientation;
  }


  private static String ascii(byte[] b, int offset, int length) {
    return new String(b, offset, length, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  private static int u16be(byte[] b, int i) {
    return (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
  }

  private static int u16le(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
  }

  private static int u24le(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16;
  }

  private static int be32(byte[] b, int i) {
    return (b[i] & 0xff) << 24 | (b[i + 1] & 0xff) << 16 | (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff);
  }

  private static long le32(byte[] b, int i) {
    return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
  }

  /** One frame of an animated WebP: its rectangle, delay (ms), ANMF flags and where its bitstream chunks lie. */
  record WebpFrame(int x, int y, int width, int height, int durationMs, int flags, long dataOffset, long dataLength) {
    boolean disposeToBackground() {
      return (flags & 0x01) != 0;
    }

    boolean blend() {
      return (flags & 0x02) == 0;
    }
  }

  /** A WebP's header and, when animated, its frames and loop count (0 = forever). */
  record WebpLayout(SourceInfo info, boolean animated, int loops, List<WebpFrame> frames) {
  }

  /** A forward, buffered, bounds-checked reader that can also seek (files are small: upload limits). */
  private static final class Cursor implements AutoCloseable {
    private final Path file;
    private final long size;
    private InputStream in;
    private long position;

    Cursor(Path file) throws IOException {
      this.file = file;
      this.size = Files.size(file);
      this.in = new BufferedInputStream(Files.newInputStream(file), 8192);
    }

    long size() {
      return size;
    }

    byte[] peek(int n) throws IOException {
      in.mark(n);
      byte[] b = in.readNBytes(n);
      in.reset();
      return b;
    }

    /** Up to {@code n} bytes (fewer only at the end of the file). */
    byte[] read(int n) throws IOException {
      if (n < 0) {
        throw new EOFException();
      }
      byte[] b = in.readNBytes((int) Math.min(n, size - position));
      position += b.length;
      if (b.length < n) {
        throw new EOFException();
      }
      return b;
    }

    int u8() throws IOException {
      int b = in.read();
      if (b < 0) {
        throw new EOFException();
      }
      position++;
      return b;
    }

    int u16be() throws IOException {
      return u8() << 8 | u8();
    }

    void skip(long n) throws IOException {
      if (position + n > size) {
        throw new EOFException();
      }
      in.skipNBytes(n);
      position += n;
    }

    void seek(long target) throws IOException {
      if (target >= position) {
        skip(Math.min(target, size) - position);
        return;
      }
      in.close();
      in = new BufferedInputStream(Files.newInputStream(file), 8192);
      position = 0;
      skip(target);
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
