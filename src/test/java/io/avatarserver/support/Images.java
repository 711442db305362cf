package io.avatarserver.support;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The tests' own, deliberately simple reading and writing of image containers: to build images with
 * metadata, to take stored files apart, and to say what the server should store. It shares no code
 * with the server's streaming parsers, so each checks the other.
 */
public final class Images {

  public static final int ORIENTATION = 0x0112;
  public static final int GPS_IFD = 0x8825;
  public static final int EXIF_IFD = 0x8769;

  private Images() {
  }

  // ---- JPEG ----

  /** A JPEG marker segment: {@code marker} (0xE1 for APP1…) and its payload, without the length. */
  public record Segment(int marker, byte[] payload) {
  }

  /** The marker segments from SOI up to and including the first SOS. */
  public static List<Segment> jpegSegments(byte[] jpeg) {
    List<Segment> segments = new ArrayList<>();
    int i = 2;
    while (i + 4 <= jpeg.length) {
      if ((jpeg[i] & 0xff) != 0xFF) {
        throw new IllegalArgumentException("no marker at " + i);
      }
      int marker = jpeg[i + 1] & 0xff;
      int length = (jpeg[i + 2] & 0xff) << 8 | (jpeg[i + 3] & 0xff);
      segments.add(new Segment(marker, Arrays.copyOfRange(jpeg, i + 4, i + 2 + length)));
      i += 2 + length;
      if (marker == 0xDA) {
        break;
      }
    }
    return segments;
  }

  /** The bytes from the first SOS marker to the end: the entropy-coded image data. */
  public static byte[] jpegScanData(byte[] jpeg) {
    int i = 2;
    while (true) {
      int marker = jpeg[i + 1] & 0xff;
      if (marker == 0xDA) {
        return Arrays.copyOfRange(jpeg, i, jpeg.length);
      }
      i += 2 + ((jpeg[i + 2] & 0xff) << 8 | (jpeg[i + 3] & 0xff));
    }
  }

  /** {@code jpeg} with {@code segments} inserted right after SOI and its first segment (JFIF). */
  public static byte[] jpegWith(byte[] jpeg, Segment... segments) {
    int afterApp0 = 2 + 2 + ((jpeg[4] & 0xff) << 8 | (jpeg[5] & 0xff));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, afterApp0);
    for (Segment segment : segments) {
      int length = segment.payload().length + 2;
      out.write(0xFF);
      out.write(segment.marker());
      out.write(length >> 8);
      out.write(length);
      out.writeBytes(segment.payload());
    }
    out.write(jpeg, afterApp0, jpeg.length - afterApp0);
    return out.toByteArray();
  }

  /** An APP1 EXIF payload: "Exif\0\0" and a TIFF structure. */
  public static byte[] exifPayload(byte[] tiff) {
    return concat("Exif\0\0".getBytes(StandardCharsets.US_ASCII), tiff);
  }

  // ---- TIFF (EXIF) ----

  /**
   * A TIFF structure as cameras write it: IFD0 with Make, Orientation (when {@code orientation > 0}),
   * a GPS IFD pointer and an EXIF IFD pointer; the GPS IFD with latitude reference and latitude.
   */
  public static byte[] cameraTiff(boolean littleEndian, int orientation) {
    ByteBuffer b = ByteBuffer.allocate(256).order(littleEndian ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
    b.put(littleEndian ? (byte) 'I' : (byte) 'M').put(littleEndian ? (byte) 'I' : (byte) 'M').putShort((short) 42).putInt(8);
    int entries = orientation > 0 ? 4 : 3;
    int ifd0End = 8 + 2 + entries * 12 + 4;
    int make = ifd0End;                  // "Camera\0\0": 8 bytes
    int exifIfd = make + 8;              // 1 entry: 18 bytes
    int gpsIfd = exifIfd + 18;           // 2 entries: 30 bytes
    int latitude = gpsIfd + 30;          // 3 rationals: 24 bytes
    b.putShort((short) entries);
    entry(b, 0x010F, 2, 8, make);        // Make, ASCII
    if (orientation > 0) {
      b.putShort((short) ORIENTATION).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
    }
    entry(b, EXIF_IFD, 4, 1, exifIfd);
    entry(b, GPS_IFD, 4, 1, gpsIfd);
    b.putInt(0);
    b.put("Camera\0\0".getBytes(StandardCharsets.US_ASCII));
    b.putShort((short) 1);
    entry(b, 0x9003, 2, 4, 0x32303236); // DateTimeOriginal, 4 ASCII bytes inline ("2026")
    b.putInt(0);
    b.putShort((short) 2);
    b.putShort((short) 0x0001).putShort((short) 2).putInt(2).put(new byte[] {'N', 0, 0, 0}); // GPSLatitudeRef
    entry(b, 0x0002, 5, 3, latitude);   // GPSLatitude
    b.putInt(0);
    b.putInt(48).putInt(1).putInt(51).putInt(1).putInt(2406).putInt(100);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static void entry(ByteBuffer b, int tag, int type, int count, int value) {
    b.putShort((short) tag).putShort((short) type).putInt(count).putInt(value);
  }

  /**
   * Every tag of a TIFF structure at {@code offset}: IFD0 and the IFDs its EXIF and GPS pointers
   * lead to, each tag with its first SHORT value (or the raw 32-bit value for other types).
   */
  public static Map<Integer, Long> tiffTags(byte[] bytes, int offset) {
    ByteBuffer b = ByteBuffer.wrap(bytes, offset, bytes.length - offset).slice();
    b.order(bytes[offset] == 'I' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
    if (b.getShort(2) != 42) {
      throw new IllegalArgumentException("not a TIFF structure");
    }
    Map<Integer, Long> tags = new LinkedHashMap<>();
    List<Integer> ifds = new ArrayList<>(List.of(b.getInt(4)));
    for (int k = 0; k < ifds.size(); k++) {
      int ifd = ifds.get(k);
      int count = b.getShort(ifd) & 0xffff;
      for (int e = 0; e < count; e++) {
        int at = ifd + 2 + e * 12;
        int tag = b.getShort(at) & 0xffff;
        int type = b.getShort(at + 2) & 0xffff;
        long value = type == 3 ? b.getShort(at + 8) & 0xffff : b.getInt(at + 8) & 0xffffffffL;
        tags.put(tag, value);
        if (tag == GPS_IFD || tag == EXIF_IFD) {
          ifds.add((int) value);
        }
      }
    }
    return tags;
  }

  /** The tags of every EXIF block in a JPEG (APP1 segments starting "Exif\0\0"), merged. */
  public static Map<Integer, Long> jpegExifTags(byte[] jpeg) {
    Map<Integer, Long> tags = new LinkedHashMap<>();
    for (Segment s : jpegSegments(jpeg)) {
      if (s.marker() == 0xE1 && startsWith(s.payload(), "Exif\0\0")) {
        tags.putAll(tiffTags(s.payload(), 6));
      }
    }
    return tags;
  }

  // ---- PNG ----

  public record Chunk(String type, byte[] data) {
  }

  /** The chunks of a PNG, in order, IEND included. */
  public static List<Chunk> pngChunks(byte[] png) {
    List<Chunk> chunks = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(png);
    b.position(8);
    while (b.remaining() >= 12) {
      int length = b.getInt();
      byte[] type = new byte[4];
      b.get(type);
      byte[] data = new byte[length];
      b.get(data);
      b.getInt();
      chunks.add(new Chunk(new String(type, StandardCharsets.ISO_8859_1), data));
    }
    return chunks;
  }

  /** A PNG made of a signature and these chunks (CRCs computed). */
  public static byte[] png(List<Chunk> chunks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    for (Chunk chunk : chunks) {
      byte[] type = chunk.type().getBytes(StandardCharsets.ISO_8859_1);
      out.writeBytes(ByteBuffer.allocate(4).putInt(chunk.data().length).array());
      out.writeBytes(type);
      out.writeBytes(chunk.data());
      CRC32 crc = new CRC32();
      crc.update(type);
      crc.update(chunk.data());
      out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
    return out.toByteArray();
  }

  /** {@code png} with {@code extra} chunks inserted right after IHDR. */
  public static byte[] pngWith(byte[] png, Chunk... extra) {
    List<Chunk> chunks = new ArrayList<>(pngChunks(png));
    chunks.addAll(1, List.of(extra));
    return png(chunks);
  }

  // ---- GIF ----

  /** {@code gif} with a comment extension right after the header and global colour table. */
  public static byte[] gifWithComment(byte[] gif, String comment) {
    int flags = gif[10] & 0xff;
    int at = 13 + ((flags & 0x80) != 0 ? 3 * (1 << ((flags & 7) + 1)) : 0);
    byte[] text = comment.getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream ext = new ByteArrayOutputStream();
    ext.writeBytes(new byte[] {0x21, (byte) 0xFE, (byte) text.length});
    ext.writeBytes(text);
    ext.write(0);
    return concat(Arrays.copyOf(gif, at), ext.toByteArray(), Arrays.copyOfRange(gif, at, gif.length));
  }

  // ---- WebP ----

  /** The chunks of a WebP (RIFF) file, within its RIFF size. */
  public static List<Chunk> riffChunks(byte[] webp) {
    ByteBuffer b = ByteBuffer.wrap(webp).order(ByteOrder.LITTLE_ENDIAN);
    int end = 8 + b.getInt(4);
    List<Chunk> chunks = new ArrayList<>();
    int i = 12;
    while (i + 8 <= end) {
      String type = new String(webp, i, 4, StandardCharsets.ISO_8859_1);
      int size = b.getInt(i + 4);
      chunks.add(new Chunk(type, Arrays.copyOfRange(webp, i + 8, i + 8 + size)));
      i += 8 + size + (size & 1);
    }
    return chunks;
  }

  /** A WebP file of these chunks (padding and RIFF size computed). */
  public static byte[] webp(List<Chunk> chunks) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes("WEBP".getBytes(StandardCharsets.US_ASCII));
    for (Chunk chunk : chunks) {
      body.writeBytes(chunk.type().getBytes(StandardCharsets.ISO_8859_1));
      body.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(chunk.data().length).array());
      body.writeBytes(chunk.data());
      if ((chunk.data().length & 1) != 0) {
        body.write(0);
      }
    }
    byte[] riff = body.toByteArray();
    return concat("RIFF".getBytes(StandardCharsets.US_ASCII),
      ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(riff.length).array(), riff);
  }

  /** A VP8X chunk's data: flags and a canvas of width × height. */
  public static byte[] vp8x(int flags, int width, int height) {
    ByteBuffer b = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) flags).put(new byte[3]);
    b.put((byte) (width - 1)).put((byte) ((width - 1) >> 8)).put((byte) ((width - 1) >> 16));
    b.put((byte) (height - 1)).put((byte) ((height - 1) >> 8)).put((byte) ((height - 1) >> 16));
    return b.array();
  }

  // ---- what the server stores ----

  /**
   * What the server stores for an image without an EXIF orientation: the same bytes less the
   * metadata it strips (PNG: all but the chunks that render, {@link #PNG_STORED}; JPEG APP1, COM and APPn segments but JFIF, ICC
   * profiles and Adobe; GIF comments are not present in the fixtures).
   */
  /** The PNG chunks the server stores when stripping metadata: those that render the image. */
  public static final Set<String> PNG_STORED = Set.of("IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB",
    "iCCP", "cICP", "mDCV", "cLLI", "pHYs", "acTL", "fcTL", "fdAT");

  public static byte[] stored(byte[] image) {
    if (startsWith(image, "\u0089PNG")) {
      return png(pngChunks(image).stream().filter(c -> PNG_STORED.contains(c.type())).toList());
    }
    if ((image[0] & 0xff) == 0xFF && (image[1] & 0xff) == 0xD8) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(0xFF);
      out.write(0xD8);
      for (Segment s : jpegSegments(image)) {
        if (s.marker() == 0xDA) {
          break;
        }
        boolean keep = s.marker() < 0xE0
          || s.marker() == 0xE0
          || (s.marker() == 0xE2 && startsWith(s.payload(), "ICC_PROFILE\0"))
          || (s.marker() == 0xEE && startsWith(s.payload(), "Adobe"));
        if (keep) {
          int length = s.payload().length + 2;
          out.writeBytes(new byte[] {(byte) 0xFF, (byte) s.marker(), (byte) (length >> 8), (byte) length});
          out.writeBytes(s.payload());
        }
      }
      out.writeBytes(jpegScanData(image));
      return out.toByteArray();
    }
    return image;
  }

  // ---- pixels ----

  /** The decoded pixels (ARGB, row by row) of a JPEG, PNG or GIF, with the width and height first. */
  public static int[] pixels(byte[] image) {
    try {
      BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(image));
      if (decoded == null) {
        throw new IllegalArgumentException("ImageIO cannot decode this image");
      }
      int w = decoded.getWidth();
      int h = decoded.getHeight();
      int[] out = new int[w * h + 2];
      out[0] = w;
      out[1] = h;
      decoded.getRGB(0, 0, w, h, out, 2, w);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static boolean startsWith(byte[] bytes, String latin1) {
    byte[] prefix = latin1.getBytes(StandardCharsets.ISO_8859_1);
    return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
