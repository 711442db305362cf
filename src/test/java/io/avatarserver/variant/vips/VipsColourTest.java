package io.avatarserver.variant.vips;

import static io.avatarserver.variant.vips.VipsSupport.decode;
import static io.avatarserver.variant.vips.VipsSupport.load;
import static io.avatarserver.variant.vips.VipsSupport.own;
import static io.avatarserver.variant.vips.VipsSupport.vips;
import static io.avatarserver.variant.vips.VipsSupport.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import io.avatarserver.variant.RenderLimits;
import io.avatarserver.variant.Rendered;
import io.avatarserver.variant.SourceInfo;
import io.avatarserver.variant.VariantFormat;
import io.avatarserver.variant.VariantSpec;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A CMYK JPEG with its ICC profile comes out as sRGB in the colours its profile means. */
class VipsColourTest {

  @TempDir
  Path dir;

  @Test
  void cmykJpegWithIccIsConvertedThroughItsProfile() throws Exception {
    VipsLib lib = vips().lib();
    // The fixture: progressive.jpg (sRGB) turned into CMYK through libvips' built-in CMYK profile,
    // which the JPEG carries (about 1 MB, hence made here rather than committed).
    Path cmyk = dir.resolve("cmyk.jpg");
    Pointer rgb = load(own("progressive.jpg"));
    PointerByReference converted = new PointerByReference();
    try {
      assertEquals(0, lib.vips_icc_transform(rgb, converted, "cmyk", "input_profile", "srgb", Vips.END),
        vips().takeError());
      write(converted.getValue(), cmyk);
    } finally {
      lib.g_object_unref(converted.getValue());
      lib.g_object_unref(rgb);
    }

    VipsRenderer renderer = new VipsRenderer(vips());
    SourceInfo info = renderer.probe(cmyk, "image/jpeg");
    assertEquals(new SourceInfo("image/jpeg", 600, 400, 1, 1), info);
    Rendered rendered = renderer.render(cmyk, info, List.of(new VariantSpec(128, VariantFormat.PNG, false)),
      RenderLimits.DEFAULT).get(0);
    Path original = own("progressive.jpg");
    Rendered fromRgb = renderer.render(original, renderer.probe(original, null),
      List.of(new VariantSpec(128, VariantFormat.PNG, false)), RenderLimits.DEFAULT).get(0);

    // The reference: the whole CMYK image through its embedded profile to sRGB, then the same resize.
    Path reference = dir.resolve("reference.png");
    Pointer cmykImage = load(cmyk);
    PointerByReference srgb = new PointerByReference();
    PointerByReference small = new PointerByReference();
    try {
      assertEquals(0, lib.vips_icc_transform(cmykImage, srgb, "srgb", "embedded", 1, Vips.END), vips().takeError());
      assertEquals(0, lib.vips_thumbnail_image(srgb.getValue(), small, 128, "height", 128, "crop", 1, Vips.END),
        vips().takeError());
      write(small.getValue(), reference);
    } finally {
      lib.g_object_unref(small.getValue());
      lib.g_object_unref(srgb.getValue());
      lib.g_object_unref(cmykImage);
    }

    VipsSupport.Decoded d = decode(rendered.bytes());
    assertEquals(3, d.bands(), "sRGB, not CMYK");
    assertFalse(d.icc(), "no profile left");
    double vsReference = meanDifference(rendered.bytes(), Files.readAllBytes(reference));
    double vsOriginal = meanDifference(rendered.bytes(), fromRgb.bytes());
    System.out.printf("CMYK JPEG at 128 px: mean |Δ| %.2f/255 from a full ICC transform, %.2f/255 from the"
      + " sRGB original it was made from (the CMYK gamut round trip)%n", vsReference, vsOriginal);
    assertTrue(vsReference < 3, "mean difference from the ICC reference " + vsReference);
    // An inverted or profile-less CMYK conversion is off by far more than the gamut round trip.
    assertTrue(vsOriginal < 10, "mean difference from the sRGB original " + vsOriginal);
  }

  private static double meanDifference(byte[] a, byte[] b) throws Exception {
    BufferedImage x = ImageIO.read(new ByteArrayInputStream(a));
    BufferedImage y = ImageIO.read(new ByteArrayInputStream(b));
    assertEquals(x.getWidth(), y.getWidth());
    assertEquals(x.getHeight(), y.getHeight());
    long sum = 0;
    for (int j = 0; j < x.getHeight(); j++) {
      for (int i = 0; i < x.getWidth(); i++) {
        int p = x.getRGB(i, j);
        int q = y.getRGB(i, j);
        for (int shift = 0; shift <= 16; shift += 8) {
          sum += Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff));
        }
      }
    }
    return (double) sum / (x.getWidth() * x.getHeight() * 3);
  }
}
