package io.avatarserver.variant;

import java.awt.AlphaComposite;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DataBufferUShort;
import java.awt.image.MultiPixelPackedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.awt.image.SinglePixelPackedSampleModel;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;

/**
 * Decodes a square larger than the render needs in one pass, a band of {@link #BAND_ROWS} rows at a
 * time, and area-averages it into the (smaller) square the render keeps while it is decoded: the
 * decoded square itself is never held. A 1024 px variant of a 2047×2047 16-bit RGBA PNG holds 16 rows
 * of 2047 × 8 bytes (256 KiB) and the 1024² output (4 MiB) instead of a 32 MiB raster and its 16 MiB
 * ARGB copy.
 *
 * <p>How: the reader is given a destination of the full decoded size whose {@link DataBuffer} stores
 * only one band of rows ({@link BandBuffer}). ImageIO's readers write their rows through the raster's
 * sample model, so every sample lands in {@link BandBuffer#setElem}; a write below the band means the
 * rows before it are complete (the JDK's PNG reader without interlacing and its JPEG reader for a
 * sequential JPEG write each row once, top to bottom; see {@link ImageHeaders#rowOrder}), and the band
 * is converted to premultiplied ARGB (by Java2D, as a full decode is) and averaged into the output. A write to a row already averaged means the reader does not
 * write in order (an Adam7-interlaced PNG writes every row up to seven times): {@link OutOfOrder} is
 * thrown from inside the reader, and the caller decodes the whole square instead. One exception: a
 * reader known to write the whole image once per pass ({@link ImageHeaders.RowOrder#PASSES}: the JDK's
 * reader outputs a progressive JPEG once per scan, each time every row top to bottom, the last one the
 * finished image) starts the average afresh when a pass starts again at row 0, so what is left at the
 * end is the last pass averaged; a pass costs a band's conversion and averaging per 16 rows again, the
 * memory stays one band.
 *
 * <p>Averaging is done in premultiplied space (no dark fringes where transparent pixels meet opaque
 * ones), each source pixel weighted by the part of it an output pixel covers (a box filter of the exact
 * fractional size), so the output is what a full decode scaled by area would give.
 */
final class StreamedDecode {

  /** Rows of the decoded square held at once (the band the reader writes into). */
  static final int BAND_ROWS = 16;

  private StreamedDecode() {
  }

  /** Thrown inside the reader when it writes to a row already averaged: it does not write rows in order. */
  static final class OutOfOrder extends RuntimeException {
    OutOfOrder(int row, int base) {
      super("row " + row + " written after the rows up to " + base + " were averaged", null, false, false);
    }
  }

  /**
   * The heap a streamed decode holds besides its output, in bytes: the band and a few more rows (the
   * reader's own row buffers, Java2D's scratch row) in the reader's own type (at most 8 bytes a pixel:
   * 16-bit RGBA) and as ARGB (4), and the averaging rows (3 × 4 channels × 4 bytes a pixel of the
   * output side): 0.5 MiB for a 2047 px side.
   */
  static long bandBytes(int decoded, int out) {
    return (long) (BAND_ROWS + 4) * decoded * (8 + 4) + 3L * out * 4 * 4;
  }

  /**
   * Reads image 0 of {@code reader} (source region and subsampling set in {@code param}, giving a
   * {@code decoded}×{@code decoded} square) averaged to {@code out}×{@code out} premultiplied ARGB;
   * null when the reader's type cannot be banded (several banks). {@code observer} sees each band.
   * With {@code passes}, a write to row 0 after later rows were averaged starts a new pass (the average
   * starts again) instead of being out of order.
   *
   * @throws OutOfOrder (possibly as the cause of an exception of the reader) when the reader does not
   *     write its rows in order
   */
  static BufferedImage read(ImageReader reader, ImageReadParam param, int decoded, int out, boolean passes,
    JavaRenderer.DecodeObserver observer) throws IOException {
    Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
    if (!types.hasNext()) {
      return null;
    }
    ImageTypeSpecifier type = types.next();
    SampleModel sm = type.getSampleModel(decoded, decoded);
    SampleModel bandSm = sm.createCompatibleSampleModel(decoded, BAND_ROWS);
    int stride = stride(sm);
    if (stride <= 0 || stride != stride(bandSm)) {
      return null;
    }
    ColorModel cm = type.getColorModel();
    Averager averager = new Averager(decoded, out);
    BandBuffer buffer = new BandBuffer(sm, bandSm, cm, stride, decoded, passes, averager, observer);
    param.setDestination(new BufferedImage(cm, Raster.createWritableRaster(sm, buffer, null),
      cm.isAlphaPremultiplied(), null));
    try {
      reader.read(0, param);
    } finally {
      param.setDestination(null);
    }
    buffer.finish();
    return averager.finish();
  }

  /** Whether {@code e} or one of its causes says that the reader wrote out of order. */
  static boolean outOfOrder(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfOrder) {
        return true;
      }
    }
    return false;
  }

  /** Data elements per row of a single-bank sample model; -1 for another kind. */
  private static int stride(SampleModel sm) {
    if (sm instanceof ComponentSampleModel c) {
      return java.util.Arrays.stream(c.getBankIndices()).allMatch(b -> b == 0) ? c.getScanlineStride() : -1;
    }
    if (sm instanceof MultiPixelPackedSampleModel m) {
      return m.getScanlineStride();
    }
    if (sm instanceof SinglePixelPackedSampleModel s) {
      return s.getScanlineStride();
    }
    return -1;
  }

  /**
   * The decoded square's data buffer as the reader sees it (all of its elements addressable), storing
   * only rows {@code base} to {@code base + BAND_ROWS - 1} in a standard buffer of the band's size.
   */
  private static final class BandBuffer extends DataBuffer {
    private final DataBuffer band;
    private final BufferedImage bandImage;
    private final BufferedImage argb;
    private final int stride;
    private final int rows;
    private final int bandSize;
    private final Averager averager;
    private final JavaRenderer.DecodeObserver observer;
    private final boolean passes;
    private int base;

    BandBuffer(SampleModel sm, SampleModel bandSm, ColorModel cm, int stride, int rows, boolean passes, Averager averager,
      JavaRenderer.DecodeObserver observer) {
      super(sm.getDataType(), stride * rows);
      this.band = bandSm.createDataBuffer();
      this.bandImage = new BufferedImage(cm, Raster.createWritableRaster(bandSm, band, null),
        cm.isAlphaPremultiplied(), null);
      this.argb = new BufferedImage(bandSm.getWidth(), BAND_ROWS, BufferedImage.TYPE_INT_ARGB_PRE);
      this.stride = stride;
      this.rows = rows;
      this.bandSize = band.getSize();
      this.averager = averager;
      this.observer = observer;
      this.passes = passes;
    }

    @Override
    public int getElem(int bank, int i) {
      int at = i - base * stride;
      // Rows below the band are new (zero until written); rows above it were averaged.
      return at >= 0 && at < bandSize ? band.getElem(at) : 0;
    }

    @Override
    public void setElem(int bank, int i, int val) {
      int at = i - base * stride;
      if (at >= 0 && at < bandSize) {
        band.setElem(at, val);
        return;
      }
      int row = i / stride;
      if (row < base) {
        if (!passes || row != 0) {
          throw new OutOfOrder(row, base);
        }
        // The next pass: what was averaged of the previous one is dropped, and its last band unread.
        clear();
        base = 0;
        averager.restart();
      }
      while (row >= base + BAND_ROWS) {
        flush();
      }
      band.setElem(i - base * stride, val);
    }

    /** Averages the band's rows into the output and starts the next band (rows never written stay 0, as in a full decode). */
    private void flush() {
      int n = Math.min(BAND_ROWS, rows - base);
      if (n > 0) {
        BufferedImage rowsWritten = n == BAND_ROWS ? bandImage : bandImage.getSubimage(0, 0, bandImage.getWidth(), n);
        observer.decoded(rowsWritten);
        Pixels.draw(argb, rowsWritten, new Rectangle(0, 0, argb.getWidth(), n), AlphaComposite.Src);
        int[] px = Pixels.data(argb);
        for (int y = 0; y < n; y++) {
          averager.row(px, y * argb.getWidth());
        }
        clear();
      }
      base += BAND_ROWS;
    }

    private void clear() {
      if (band instanceof DataBufferByte b) {
        java.util.Arrays.fill(b.getData(), (byte) 0);
      } else if (band instanceof DataBufferUShort s) {
        java.util.Arrays.fill(s.getData(), (short) 0);
      } else if (band instanceof DataBufferInt n) {
        java.util.Arrays.fill(n.getData(), 0);
      } else {
        for (int i = 0; i < bandSize; i++) {
          band.setElem(i, 0);
        }
      }
    }

    void finish() {
      while (base < rows) {
        flush();
      }
    }
  }

  /**
   * Area-averages premultiplied ARGB rows of {@code in} pixels, given top to bottom, into an
   * {@code out}×{@code out} square: each source pixel adds to the one or two output pixels (per axis)
   * whose box of {@code in / out} source pixels it overlaps, weighted by the overlap.
   */
  static final class Averager {
    private final int in;
    private final int out;
    private final int[] xOut;
    private final float[] xWeight;
    private final float[] yWeights;
    private final int[] yOut;
    private final float norm;
    private final float[] line;
    private float[] current;
    private float[] next;
    private final BufferedImage square;
    private final int[] result;
    private int y;
    private int row;

    Averager(int in, int out) {
      if (out > in) {
        throw new IllegalArgumentException(in + " px averaged to " + out);
      }
      this.in = in;
      this.out = out;
      this.xOut = new int[in];
      this.xWeight = new float[in];
      this.yOut = xOut;
      this.yWeights = xWeight;
      double scale = (double) in / out;
      for (int x = 0; x < in; x++) {
        int o = Math.min(out - 1, (int) (x / scale));
        double edge = (o + 1) * scale;
        xOut[x] = o;
        xWeight[x] = o == out - 1 ? 1f : (float) Math.min(1, edge - x);
      }
      this.norm = (float) (1 / (scale * scale));
      this.line = new float[out * 4];
      this.current = new float[out * 4];
      this.next = new float[out * 4];
      this.square = new BufferedImage(out, out, BufferedImage.TYPE_INT_ARGB_PRE);
      this.result = Pixels.data(square);
    }

    /** Starts again from the first row (the rows added so far are forgotten). */
    void restart() {
      y = 0;
      row = 0;
      java.util.Arrays.fill(current, 0);
      java.util.Arrays.fill(next, 0);
    }

    /** Adds the next source row ({@code in} premultiplied ARGB pixels of {@code px} from {@code off}). */
    void row(int[] px, int off) {
      if (y >= in) {
        return;
      }
      java.util.Arrays.fill(line, 0);
      for (int x = 0; x < in; x++) {
        int p = px[off + x];
        float a = p >>> 24;
        float r = p >> 16 & 0xff;
        float g = p >> 8 & 0xff;
        float b = p & 0xff;
        int o = xOut[x] * 4;
        float w = xWeight[x];
        line[o] += a * w;
        line[o + 1] += r * w;
        line[o + 2] += g * w;
        line[o + 3] += b * w;
        if (w < 1f) {
          float v = 1f - w;
          line[o + 4] += a * v;
          line[o + 5] += r * v;
          line[o + 6] += g * v;
          line[o + 7] += b * v;
        }
      }
      int o = yOut[y];
      float w = yWeights[y];
      while (row < o) {
        emit();
      }
      for (int i = 0; i < line.length; i++) {
        current[i] += line[i] * w;
      }
      if (w < 1f) {
        float v = 1f - w;
        for (int i = 0; i < line.length; i++) {
          next[i] += line[i] * v;
        }
      }
      y++;
    }

    private void emit() {
      int at = row * out;
      for (int x = 0; x < out; x++) {
        int a = channel(current[x * 4]);
        int r = Math.min(a, channel(current[x * 4 + 1]));
        int g = Math.min(a, channel(current[x * 4 + 2]));
        int b = Math.min(a, channel(current[x * 4 + 3]));
        result[at + x] = a << 24 | r << 16 | g << 8 | b;
      }
      float[] t = current;
      current = next;
      next = t;
      java.util.Arrays.fill(next, 0);
      row++;
    }

    private int channel(float sum) {
      return Math.max(0, Math.min(255, Math.round(sum * norm)));
    }

    /** The output square (rows the source did not reach are transparent). */
    BufferedImage finish() {
      while (row < out) {
        emit();
      }
      return square;
    }
  }
}
