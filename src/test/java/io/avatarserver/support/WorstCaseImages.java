package io.avatarserver.support;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The costliest originals the upload limits let in (10 MiB, 4096 px a side, 16,777,216 pixels), made
 * at run time, small on disk but big to decode: an animated GIF of many full-size frames (tiny LZW), an
 * interlaced 16-bit RGBA PNG, a progressive 4:4:4 JPEG and a lossless WebP. The tests use the GIF; the
 * memory proof ({@code src/load/memory/MemoryProof.java --renders}) writes all four with {@link #main}.
 */
public final class WorstCaseImages {

  private WorstCaseImages() {
  }

  /** Writes gif (frames as given), png16, jpeg and webp of {@code side}×{@code side} into a directory. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    int side = Integer.parseInt(args[1]);
    int frames = Integer.parseInt(args[2]);
    Files.createDirectories(dir);
    Files.write(dir.resolve("worst.gif"), gif(side, side, frames));
    Files.write(dir.resolve("worst.png"), png16Interlaced(side));
    Files.write(dir.resolve("worst.jpg"), progressiveJpeg(side));
    Files.write(dir.resolve("worst.webp"), losslessWebp(side));
  }

  /**
   * An animated GIF of {@code frames} full-screen frames, each one colour (alternating), delay 100 ms,
   * looping forever. A constant frame codes to a few KiB of LZW whatever its size, so a 4096×4096 GIF of
   * 100 frames is about 1 MiB on disk and 1.7 billion pixels to decode.
   */
  public static byte[] gif(int width, int height, int frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("GIF89a".getBytes(StandardCharsets.US_ASCII));
    le16(out, width);
    le16(out, height);
    out.write(0x81); // global colour table of 4 entries
    out.write(0);
    out.write(0);
    out.writeBytes(new byte[] {(byte) 255, 0, 0, 0, 0, (byte) 255, 0, (byte) 255, 0, (byte) 255, (byte) 255, (byte) 255});
    out.writeBytes(new byte[] {0x21, (byte) 0xFF, 11});
    out.writeBytes("NETSCAPE2.0".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(new byte[] {3, 1, 0, 0, 0});
    byte[][] coded = {lzwConstant(0, (long) width * height), lzwConstant(1, (long) width * height)};
    for (int f = 0; f < frames; f++) {
      out.writeBytes(new byte[] {0x21, (byte) 0xF9, 4, 0x04, 10, 0, 0, 0}); // disposal: none; 100 ms
      out.write(0x2C);
      le16(out, 0);
      le16(out, 0);
      le16(out, width);
      le16(out, height);
      out.write(0);
      out.write(2); // LZW minimum code size
      byte[] data = coded[f % 2];
      for (int at = 0; at < data.length; at += 255) {
        int n = Math.min(255, data.length - at);
        out.write(n);
        out.write(data, at, n);
      }
      out.write(0);
    }
    out.write(0x3B);
    return out.toByteArray();
  }

  /** GIF LZW (minimum code size 2) of {@code count} pixels of colour {@code index}, clearing when the table is full. */
  static byte[] lzwConstant(int index, long count) {
    final int clear = 4;
    final int end = 5;
    int[] extend = new int[4096]; // extend[code] = the code of code's string + one more `index`, or 0
    Bits bits = new Bits();
    int width = 3;
    int next = end + 1;
    bits.put(clear, width);
    int current = index;
    for (long i = 1; i < count; i++) {
      if (extend[current] != 0) {
        current = extend[current];
        continue;
      }
      bits.put(current, width);
      if (next < 4096) {
        if (next > (1 << width) - 1) {
          width++;
        }
        extend[current] = next++;
      } else {
        bits.put(clear, width);
        java.util.Arrays.fill(extend, 0);
        next = end + 1;
        width = 3;
      }
      current = index;
    }
    bits.put(current, width);
    if (next < 4096 && next > (1 << width) - 1) {
      width++;
    }
    bits.put(end, width);
    return bits.toByteArray();
  }

  private static final class Bits {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int acc;
    private int n;

    void put(int code, int width) {
      acc |= code << n;
      n += width;
      while (n >= 8) {
        out.write(acc & 0xFF);
        acc >>>= 8;
        n -= 8;
      }
    }

    byte[] toByteArray() {
      if (n > 0) {
        out.write(acc & 0xFF);
        acc = 0;
        n = 0;
      }
      return out.toByteArray();
    }
  }

  /**
   * A {@code side}×{@code side} 16-bit RGBA PNG, Adam7-interlaced (libvips cannot stream an interlaced
   * PNG: it decodes the whole of it), a gradient whose rows deflate to almost nothing.
   */
  public static byte[] png16Interlaced(int side) {
    int[][] passes = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    Deflater deflater = new Deflater(9);
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    for (int[] p : passes) {
      int w = (side - p[0] + p[2] - 1) / p[2];
      int h = (side - p[1] + p[3] - 1) / p[3];
      if (w <= 0 || h <= 0) {
        continue;
      }
      byte[] row = new byte[1 + w * 8];
      for (int y = 0; y < h; y++) {
        if (y == 0) {
          row[0] = 0;
          for (int x = 0; x < w; x++) {
            int v = (p[0] + x * p[2]) * 65535 / Math.max(1, side - 1);
            int at = 1 + x * 8;
            row[at] = (byte) (v >> 8);
            row[at + 1] = (byte) v;
            row[at + 2] = (byte) (~v >> 8);
            row[at + 3] = (byte) ~v;
            row[at + 4] = (byte) 0x80;
            row[at + 5] = 0;
            row[at + 6] = (byte) 0xFF;
            row[at + 7] = (byte) 0xFF;
          }
        } else if (y == 1) {
          java.util.Arrays.fill(row, (byte) 0);
          row[0] = 2; // Up: the same as the row above
        }
        deflate(deflater, row, idat);
      }
    }
    return rgba16Png(side, 1, deflater, idat);
  }

  /**
   * A {@code side}×{@code side} 16-bit RGBA PNG without interlacing (its reader writes it row by row, so
   * a render can average it while it is decoded): the pattern of {@link #pattern} at 16 bits, 8 bytes a
   * pixel, each row filtered Sub and deflated (a 2047² one is about 1 MiB on disk, 32 MiB decoded).
   */
  public static byte[] png16(int side) {
    Deflater deflater = new Deflater(6);
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    byte[] row = new byte[1 + side * 8];
    byte[] raw = new byte[side * 8];
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        int argb = patternPixel(x, y, side, side);
        int at = x * 8;
        for (int c = 0; c < 4; c++) {
          int v8 = argb >> (c == 3 ? 24 : 16 - 8 * c) & 0xff;
          int v = v8 << 8 | (x * 7 + y * 3 + c) & 0xff; // a low byte of its own: really 16 bits
          raw[at + 2 * c] = (byte) (v >> 8);
          raw[at + 2 * c + 1] = (byte) v;
        }
      }
      row[0] = 1; // Sub: each byte minus the same byte of the pixel to its left
      for (int i = 0; i < raw.length; i++) {
        row[1 + i] = (byte) (raw[i] - (i >= 8 ? raw[i - 8] : 0));
      }
      deflate(deflater, row, idat);
    }
    return rgba16Png(side, 0, deflater, idat);
  }

  /** Feeds one filtered row to the deflater, what it gives out to {@code idat}. */
  private static void deflate(Deflater deflater, byte[] row, ByteArrayOutputStream idat) {
    byte[] chunk = new byte[65536];
    deflater.setInput(row);
    while (!deflater.needsInput()) {
      idat.write(chunk, 0, deflater.deflate(chunk));
    }
  }

  /** A 16-bit RGBA PNG of {@code side}² (interlace method 0 or 1) whose rows were fed to {@code deflater}. */
  private static byte[] rgba16Png(int side, int interlace, Deflater deflater, ByteArrayOutputStream idat) {
    byte[] chunk = new byte[65536];
    deflater.finish();
    while (!deflater.finished()) {
      idat.write(chunk, 0, deflater.deflate(chunk));
    }
    deflater.end();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    pngChunk(out, "IHDR", ByteBuffer.allocate(13).putInt(side).putInt(side).put((byte) 16).put((byte) 6)
      .put((byte) 0).put((byte) 0).put((byte) interlace).array());
    pngChunk(out, "IDAT", idat.toByteArray());
    pngChunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /** A {@code width}×{@code height} baseline (sequential) JPEG of the pattern, as a camera writes a photo. */
  public static byte[] baselineJpeg(int width, int height) {
    BufferedImage image = pattern(width, height, BufferedImage.TYPE_3BYTE_BGR);
    return write(ImageIO.getImageWritersByFormatName("jpeg").next(), (writer, param) -> {
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.9f);
      return new IIOImage(image, null, null);
    });
  }

  /** A {@code side}×{@code side} progressive JPEG without chroma subsampling: libjpeg holds every coefficient of it. */
  public static byte[] progressiveJpeg(int side) {
    BufferedImage image = pattern(side, side, BufferedImage.TYPE_3BYTE_BGR);
    return write(ImageIO.getImageWritersByFormatName("jpeg").next(), (writer, param) -> {
      param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.9f);
      IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
      Node tree = meta.getAsTree("javax_imageio_jpeg_image_1.0");
      NodeList specs = ((org.w3c.dom.Element) tree).getElementsByTagName("componentSpec");
      for (int i = 0; i < specs.getLength(); i++) {
        org.w3c.dom.Element spec = (org.w3c.dom.Element) specs.item(i);
        spec.setAttribute("HsamplingFactor", "1");
        spec.setAttribute("VsamplingFactor", "1");
      }
      meta.setFromTree("javax_imageio_jpeg_image_1.0", tree);
      return new IIOImage(image, null, meta);
    });
  }

  /** A {@code side}×{@code side} lossless WebP with alpha (VP8L: libwebp decodes the whole ARGB frame). */
  public static byte[] losslessWebp(int side) {
    BufferedImage image = pattern(side, side, BufferedImage.TYPE_INT_ARGB);
    return write(ImageIO.getImageWritersByMIMEType("image/webp").next(), (writer, param) -> {
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionType("Lossless");
      return new IIOImage(image, null, null);
    });
  }

  private interface Setup {
    IIOImage image(ImageWriter writer, ImageWriteParam param) throws IOException;
  }

  /** What {@code writer} makes of the image {@code setup} gives (after setting the parameters). */
  private static byte[] write(ImageWriter writer, Setup setup) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
        writer.setOutput(out);
        ImageWriteParam param = writer.getDefaultWriteParam();
        IIOImage image = setup.image(writer, param);
        writer.write(null, image, param);
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
  }

  /** Diagonal stripes over a gradient, semi-transparent where the type has alpha. */
  private static BufferedImage pattern(int width, int height, int type) {
    BufferedImage image = new BufferedImage(width, height, type);
    int[] row = new int[width];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        row[x] = patternPixel(x, y, width, height);
      }
      image.setRGB(0, y, width, 1, row, 0, width);
    }
    return image;
  }

  /** The pattern's ARGB pixel at (x, y). */
  public static int patternPixel(int x, int y, int width, int height) {
    int r = x * 255 / width;
    int g = y * 255 / height;
    int b = ((x + y) / 16 % 2) * 200;
    int a = 128 + ((x / 64 + y / 64) % 2) * 127;
    return a << 24 | r << 16 | g << 8 | b;
  }

  private static void le16(ByteArrayOutputStream out, int v) {
    out.write(v & 0xFF);
    out.write(v >> 8 & 0xFF);
  }

  private static void pngChunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(t);
    out.writeBytes(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
