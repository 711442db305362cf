package io.avatarserver.variant;

import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.ArrayList;
import java.util.List;

/** Pixel work on small (already subsampled) square rasters: orientation, downscaling, flattening. */
final class Pixels {

  private Pixels() {
  }

  /** A copy of {@code src} as premultiplied ARGB in a raster of its own (what every later step expects). */
  static BufferedImage argb(BufferedImage src) {
    BufferedImage dst = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_ARGB_PRE);
    Graphics2D g = dst.createGraphics();
    try {
      g.setComposite(AlphaComposite.Src);
      g.drawImage(src, 0, 0, null);
    } finally {
      g.dispose();
    }
    return dst;
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

  /** {@code src} drawn over white, without alpha (for JPEG). */
  static BufferedImage onWhite(BufferedImage src) {
    BufferedImage dst = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, src.getWidth(), src.getHeight());
      g.drawImage(src, 0, 0, null);
    } finally {
      g.dispose();
    }
    return dst;
  }

  /** {@code src} as straight (non-premultiplied) ARGB, or RGB when {@code alpha} is false, for the encoders. */
  static BufferedImage straight(BufferedImage src, boolean alpha) {
    if (!alpha) {
      return onWhite(src);
    }
    BufferedImage dst = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = dst.createGraphics();
    try {
      g.setComposite(AlphaComposite.Src);
      g.drawImage(src, 0, 0, null);
    } finally {
      g.dispose();
    }
    return dst;
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
