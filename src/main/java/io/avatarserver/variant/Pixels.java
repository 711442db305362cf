package io.avatarserver.variant;

import java.awt.AlphaComposite;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;
import java.awt.image.WritableRaster;
import java.util.ArrayList;
import java.util.List;

/** Pixel work on small (already subsampled) square rasters: orientation, downscaling, flattening. */
final class Pixels {

  private Pixels() {
  }

  /** Rows converted per step when a raster of another type is drawn as ARGB (its scratch copy is one strip). */
  private static final int STRIP_ROWS = 64;

  /**
   * {@code src} as premultiplied ARGB, for a decoded raster nothing else holds: one of the three packed
   * int types is converted where it lies and its pixel array kept (no copy); any other type (a 16-bit or
   * indexed raster) is drawn into a new ARGB raster a strip of rows at a time, so Java2D's general loops
   * convert through a scratch strip, not through a scratch copy of the whole image.
   */
  static BufferedImage ownArgb(BufferedImage src) {
    int[] data = packed(src);
    if (data != null) {
      int type = src.getType();
      if (type == BufferedImage.TYPE_INT_RGB) {
        for (int i = 0; i < data.length; i++) {
          data[i] |= 0xff000000;
        }
      } else if (type == BufferedImage.TYPE_INT_ARGB) {
        for (int i = 0; i < data.length; i++) {
          data[i] = premultiply(data[i]);
        }
      }
      return wrap(src, BufferedImage.TYPE_INT_ARGB_PRE);
    }
    BufferedImage dst = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_ARGB_PRE);
    draw(dst, src, new java.awt.Rectangle(0, 0, src.getWidth(), src.getHeight()), AlphaComposite.Src);
    return dst;
  }

  /**
   * Draws {@code src} scaled (nearest neighbour) into {@code target} of {@code dst} a strip of rows at a
   * time: a source type without a direct loop is converted through a scratch copy of one strip.
   */
  static void draw(BufferedImage dst, BufferedImage src, java.awt.Rectangle target, AlphaComposite composite) {
    int w = src.getWidth();
    int h = src.getHeight();
    Graphics2D g = dst.createGraphics();
    try {
      g.setComposite(composite);
      for (int y = 0; y < h; y += STRIP_ROWS) {
        int rows = Math.min(STRIP_ROWS, h - y);
        int top = target.y + (int) ((long) y * target.height / h);
        int bottom = target.y + (int) ((long) (y + rows) * target.height / h);
        g.drawImage(src.getSubimage(0, y, w, rows), target.x, top, target.width, bottom - top, null);
      }
    } finally {
      g.dispose();
    }
  }

  /**
   * The pixel array of a packed int raster of type INT_RGB, INT_ARGB or INT_ARGB_PRE that starts at its
   * array's first element and has no padding (what a decoder's own destination is), else null.
   */
  private static int[] packed(BufferedImage img) {
    int type = img.getType();
    if (type != BufferedImage.TYPE_INT_RGB && type != BufferedImage.TYPE_INT_ARGB
      && type != BufferedImage.TYPE_INT_ARGB_PRE) {
      return null;
    }
    WritableRaster r = img.getRaster();
    if (!(r.getDataBuffer() instanceof DataBufferInt db) || db.getNumBanks() != 1 || db.getOffset() != 0
      || r.getParent() != null || !(r.getSampleModel() instanceof SinglePixelPackedSampleModel sm)
      || sm.getScanlineStride() != img.getWidth() || db.getData().length != img.getWidth() * img.getHeight()) {
      return null;
    }
    return db.getData();
  }

  /**
   * The pixel array of {@code src} (packed, see {@link #packed}) seen as an image of another packed int
   * type, without a copy. Its {@link BufferedImage#getData()} gives the raster itself, not a copy of it:
   * an encoder that asks for the whole raster (libwebp's writer does) reads these pixels as they are.
   */
  private static BufferedImage wrap(BufferedImage src, int type) {
    ColorModel cm = new BufferedImage(1, 1, type).getColorModel();
    WritableRaster raster = Raster.createPackedRaster(src.getRaster().getDataBuffer(), src.getWidth(), src.getHeight(),
      src.getWidth(), ((DirectColorModel) cm).getMasks(), null);
    return new BufferedImage(cm, raster, cm.isAlphaPremultiplied(), null) {
      @Override
      public Raster getData() {
        return getRaster();
      }
    };
  }

  private static int premultiply(int p) {
    int a = p >>> 24;
    if (a == 0xff) {
      return p;
    }
    if (a == 0) {
      return 0;
    }
    int r = ((p >> 16 & 0xff) * a + 127) / 255;
    int g = ((p >> 8 & 0xff) * a + 127) / 255;
    int b = ((p & 0xff) * a + 127) / 255;
    return a << 24 | r << 16 | g << 8 | b;
  }

  private static int unpremultiply(int p) {
    int a = p >>> 24;
    if (a == 0xff) {
      return p;
    }
    if (a == 0) {
      return 0;
    }
    int r = Math.min(255, ((p >> 16 & 0xff) * 255 + a / 2) / a);
    int g = Math.min(255, ((p >> 8 & 0xff) * 255 + a / 2) / a);
    int b = Math.min(255, ((p & 0xff) * 255 + a / 2) / a);
    return a << 24 | r << 16 | g << 8 | b;
  }

  /** A premultiplied pixel drawn over white, opaque. */
  private static int overWhite(int p) {
    int a = p >>> 24;
    if (a == 0xff) {
      return p;
    }
    int w = 255 - a;
    return 0xff000000 | ((p >> 16 & 0xff) + w) << 16 | ((p >> 8 & 0xff) + w) << 8 | ((p & 0xff) + w);
  }

  /**
   * The square {@code src} as displayed under EXIF {@code orientation} (1–8). A centre square crop
   * commutes with these eight isometries, so orienting the cropped square equals cropping the oriented image.
   */
  static BufferedImage orient(BufferedImage src, int orientation) {
    if (orientation <= 1 || orientation > 8) {
      return src;
    }
    int n = src.getWidth();
    int[] in = data(src);
    BufferedImage dst = new BufferedImage(n, n, src.getType());
    int[] out = data(dst);
    int m = n - 1;
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> { sx = m - x; sy = y; }
          case 3 -> { sx = m - x; sy = m - y; }
          case 4 -> { sx = x; sy = m - y; }
          case 5 -> { sx = y; sy = x; }
          case 6 -> { sx = y; sy = m - x; }
          case 7 -> { sx = m - y; sy = m - x; }
          default -> { sx = m - y; sy = x; } // 8
        }
        out[y * n + x] = in[sy * n + sx];
      }
    }
    return dst;
  }

  static int[] data(BufferedImage img) {
    return ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
  }

  /**
   * A premultiplied ARGB raster as an encoder takes it: straight (non-premultiplied) ARGB when
   * {@code alpha}, else drawn over white as RGB. When {@code consume} (nothing reads {@code argb} after
   * this), its pixel array is converted where it lies and kept; else the result is a new raster.
   * Either way the result's {@link BufferedImage#getData()} is not a copy (see {@link #wrap}).
   */
  static BufferedImage forEncoder(BufferedImage argb, boolean alpha, boolean consume) {
    int[] in = data(argb);
    BufferedImage out = consume && packed(argb) != null ? argb
      : new BufferedImage(argb.getWidth(), argb.getHeight(), BufferedImage.TYPE_INT_ARGB_PRE);
    int[] dst = data(out);
    for (int i = 0; i < in.length; i++) {
      dst[i] = alpha ? unpremultiply(in[i]) : overWhite(in[i]);
    }
    return wrap(out, alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
  }

  /**
   * A premultiplied ARGB raster's pixels as libwebp's encoder takes them: straight RGBA (4 bytes a
   * pixel) when {@code alpha}, else RGB drawn over white (3); in {@code into} when it has the length
   * needed (an animation's frames reuse one array), else in a new array.
   */
  static byte[] encoderBytes(BufferedImage argb, boolean alpha, byte[] into) {
    int[] in = data(argb);
    int length = Math.multiplyExact(in.length, alpha ? 4 : 3);
    byte[] out = into != null && into.length == length ? into : new byte[length];
    int o = 0;
    for (int p : in) {
      int q = alpha ? unpremultiply(p) : overWhite(p);
      out[o++] = (byte) (q >> 16);
      out[o++] = (byte) (q >> 8);
      out[o++] = (byte) q;
      if (alpha) {
        out[o++] = (byte) (q >>> 24);
      }
    }
    return out;
  }

  /** Whether any pixel of a premultiplied ARGB raster is not opaque. */
  static boolean hasTransparency(BufferedImage argb) {
    for (int p : data(argb)) {
      if (p >>> 24 != 0xff) {
        return true;
      }
    }
    return false;
  }

  /** Scales a square to {@code size}×{@code size}: a bilinear halving chain (a 2×2 box each step), then one bicubic step. */
  static BufferedImage scale(BufferedImage square, int size) {
    return new Pyramid(square).get(size);
  }

  private static BufferedImage resize(BufferedImage src, int size, Object interpolation) {
    BufferedImage dst = new BufferedImage(size, size, BufferedImage.TYPE_INT_ARGB_PRE);
    Graphics2D g = dst.createGraphics();
    try {
      g.setComposite(AlphaComposite.Src);
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(src, 0, 0, size, size, null);
    } finally {
      g.dispose();
    }
    return dst;
  }

  /**
   * The halving levels of one decoded square, built on demand and shared by every size derived from it
   * (decode once, derive the smaller sizes from the same chain).
   */
  static final class Pyramid {
    private final List<BufferedImage> levels = new ArrayList<>();

    Pyramid(BufferedImage square) {
      levels.add(square);
    }

    /** Whether {@code img} is one of the levels (which later sizes may read), not a fresh scaled copy. */
    boolean isLevel(BufferedImage img) {
      return levels.contains(img);
    }

    BufferedImage get(int size) {
      int level = 0;
      while (levels.get(level).getWidth() / 2 >= size) {
        if (level + 1 == levels.size()) {
          BufferedImage cur = levels.get(level);
          levels.add(resize(cur, cur.getWidth() / 2, RenderingHints.VALUE_INTERPOLATION_BILINEAR));
        }
        level++;
      }
      BufferedImage cur = levels.get(level);
      return cur.getWidth() == size ? cur : resize(cur, size, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    }
  }
}
