package io.avatarserver.variant.vips;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the libvips tests share: libvips itself (a missing libvips FAILS these tests with the install
 * command, it never skips them), the fixtures, and a decoder/inspector for what the engine wrote.
 */
final class VipsSupport {
  private static final Object END = Vips.END;

  private VipsSupport() {
  }

  /** libvips, or a failure that says how to install it. */
  static Vips vips() {
    try {
      return Vips.load();
    } catch (VipsUnavailableException e) {
      return fail("These tests need libvips (the 'vips' render engine); " + e.getMessage()
        + ". CI installs it in .ci/run.");
    }
  }

  /** A shared fixture: {@code images/avatar-256.jpg}, {@code hostile/script.svg}, … */
  static Path fixture(String name) {
    return resource("/fixtures/" + name);
  }

  /** One of this package's own fixtures (made with the vips command line, see the test that uses it). */
  static Path own(String name) {
    return resource("/io/avatarserver/variant/vips/" + name);
  }

  private static Path resource(String name) {
    URL url = VipsSupport.class.getResource(name);
    if (url == null) {
      throw new IllegalStateException("missing test resource " + name);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An encoded image as libvips reads it back (all its frames). */
  record Decoded(String loader, int width, int pageHeight, int pages, int bands, List<double[]> samples,
                 boolean exif, boolean xmp, boolean icc, boolean iptc, int orientationField) {
  }

  /**
   * Decodes {@code bytes} with libvips and samples the pixels at {@code points} ({x, y, page} each).
   */
  static Decoded decode(byte[] bytes, int[]... points) {
    Vips vips = vips();
    VipsLib lib = vips.lib();
    Memory buf = new Memory(bytes.length);
    buf.write(0, bytes, 0, bytes.length);
    boolean multi = isGif(bytes) || isWebp(bytes);
    Pointer image = lib.vips_image_new_from_buffer(buf, bytes.length, multi ? "n=-1" : "", END);
    if (image == null) {
      return fail("libvips cannot read the output: " + vips.takeError());
    }
    try {
      PointerByReference loader = new PointerByReference();
      assertEquals(0, lib.vips_image_get_string(image, "vips-loader", loader));
      int width = lib.vips_image_get_width(image);
      int pageHeight = lib.vips_image_get_page_height(image);
      int pages = lib.vips_image_get_height(image) / pageHeight;
      List<double[]> samples = new ArrayList<>();
      for (int[] p : points) {
        PointerByReference vector = new PointerByReference();
        IntByReference n = new IntByReference();
        if (lib.vips_getpoint(image, vector, n, p[0], p[2] * pageHeight + p[1], END) != 0) {
          fail("getpoint: " + vips.takeError());
        }
        samples.add(vector.getValue().getDoubleArray(0, n.getValue()));
        lib.g_free(vector.getValue());
      }
      return new Decoded(loader.getValue().getString(0), width, pageHeight, pages,
        lib.vips_image_get_bands(image), samples,
        lib.vips_image_get_typeof(image, "exif-data") != 0,
        lib.vips_image_get_typeof(image, "xmp-data") != 0,
        lib.vips_image_get_typeof(image, "icc-profile-data") != 0,
        lib.vips_image_get_typeof(image, "iptc-data") != 0,
        lib.vips_image_get_typeof(image, "orientation") != 0 ? lib.vips_image_get_orientation(image) : 0);
    } finally {
      lib.g_object_unref(image);
    }
  }

  static boolean isGif(byte[] b) {
    return b.length > 6 && new String(b, 0, 6, StandardCharsets.ISO_8859_1).startsWith("GIF8");
  }

  static boolean isWebp(byte[] b) {
    return b.length > 12 && new String(b, 0, 4, StandardCharsets.ISO_8859_1).equals("RIFF")
      && new String(b, 8, 4, StandardCharsets.ISO_8859_1).equals("WEBP");
  }

  /** Fails when the container carries metadata: EXIF, XMP, ICC, IPTC, comments, text, time chunks. */
  static void assertNoMetadataChunks(byte[] b) {
    if (b.length > 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8) {
      int i = 2;
      while (i + 4 <= b.length && (b[i] & 0xff) == 0xFF) {
        int marker = b[i + 1] & 0xff;
        if (marker == 0xDA) {
          return; // start of scan: no more headers
        }
        int length = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
        assertFalse(marker >= 0xE1 && marker <= 0xEF, "JPEG has an APP" + (marker - 0xE0) + " segment");
        assertFalse(marker == 0xFE, "JPEG has a comment");
        i += 2 + length;
      }
      fail("JPEG without a start of scan");
    } else if (b.length > 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P') {
      int i = 8;
      while (i + 8 <= b.length) {
        int length = ((b[i] & 0xff) << 24) | ((b[i + 1] & 0xff) << 16) | ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
        String type = new String(b, i + 4, 4, StandardCharsets.ISO_8859_1);
        assertFalse(List.of("eXIf", "iCCP", "tEXt", "zTXt", "iTXt", "tIME").contains(type), "PNG has " + type);
        i += 12 + length;
      }
    } else if (isWebp(b)) {
      int i = 12;
      while (i + 8 <= b.length) {
        String type = new String(b, i, 4, StandardCharsets.ISO_8859_1);
        int length = (b[i + 4] & 0xff) | ((b[i + 5] & 0xff) << 8) | ((b[i + 6] & 0xff) << 16) | ((b[i + 7] & 0xff) << 24);
        assertFalse(List.of("EXIF", "XMP ", "ICCP").contains(type), "WebP has " + type);
        i += 8 + length + (length & 1);
      }
    } else if (isGif(b)) {
      // Extension blocks: 0x21 label; comments (0xFE) and application blocks other than the loop count.
      String text = new String(b, StandardCharsets.ISO_8859_1);
      assertFalse(text.contains("XMP DataXMP"), "GIF has XMP");
      assertFalse(text.contains("ICCRGBG1"), "GIF has an ICC profile");
    } else {
      fail("unknown output format");
    }
  }

  /** Writes {@code image} to {@code file} (format from its extension) with libvips' saver. */
  static void write(Pointer image, Path file) {
    Vips vips = vips();
    if (vips.lib().vips_image_write_to_file(image, file.toString(), END) != 0) {
      fail("write " + file + ": " + vips.takeError());
    }
  }

  /** A decoded copy of {@code file} (only the allowed loaders can read it, as in the engine). */
  static Pointer load(Path file) {
    Vips vips = vips();
    Pointer image = vips.lib().vips_image_new_from_file(file.toString(), END);
    if (image == null) {
      fail("load " + file + ": " + vips.takeError());
    }
    return image;
  }

  static byte[] bytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
