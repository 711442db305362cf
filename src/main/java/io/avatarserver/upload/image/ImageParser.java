package io.avatarserver.upload.image;

import io.avatarserver.avatar.Failure;
import io.avatarserver.avatar.AvatarException;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A push parser for one image format that reads the bytes as they stream in and writes the bytes to
 * store: the same, minus privacy-leaking metadata. It never decodes pixels and never holds more than
 * one small header: at most {@link #METADATA_PREFIX} bytes of an EXIF block, else a few hundred bytes.
 * What it stores of a chunk is a slice of that chunk whenever it can be (no copy). A format is written as a chain of steps, each
 * with what to do next: {@link #collect} n bytes to look at, {@link #copy} n bytes through,
 * {@link #drop} n bytes, {@link #emit} bytes of its own, and {@link #end} at the image's last byte.
 *
 * <p>Refusals are {@code AvatarException}s of {@code INVALID_IMAGE}: for a truncated or inconsistent header, for a pixel
 * flood (as soon as the dimensions are read), and for data after the image's end (anything but zero
 * padding: that is where polyglots hide HTML or scripts).
 */
public abstract class ImageParser {

  /** Largest header a parser may collect at once: one JPEG segment. */
  static final int MAX_COLLECT = 65_535;
  /**
   * How much of a metadata block (EXIF) is read to find the orientation; the rest is dropped unread.
   * IFD0, where the orientation is, comes first. This bounds what an upload holds in memory.
   */
  static final int METADATA_PREFIX = 8 * 1024;

  private enum Mode { COLLECT, COPY, DROP, SCAN, TRAILER }

  private final ImageLimits limits;
  private Mode mode = Mode.COLLECT;
  private long remaining;
  private byte[] collected;
  private int filled;
  private Consumer<byte[]> onCollected;
  private Runnable onRun;
  /** This chunk; what is stored from it is a slice of it while possible (no copy), else {@link #built}. */
  private Buffer source;
  private int sliceFrom;
  private int sliceTo;
  private Buffer built;
  private long written;
  private Integer width;
  private Integer height;
  private boolean ended;
  private boolean started;
  private final List<Patch> patches = new ArrayList<>();

  /** Bytes to write over already stored ones at the end (a container size known only then). */
  public record Patch(long position, byte[] bytes) {
  }

  protected ImageParser(ImageLimits limits) {
    this.limits = limits;
  }

  /** The parser for a sniffed type. */
  public static ImageParser forType(ImageType type, ImageLimits limits) {
    return switch (type) {
      case JPEG -> new JpegParser(limits);
      case PNG -> new PngParser(limits);
      case GIF -> new GifParser(limits);
      case WEBP -> new WebpParser(limits);
    };
  }

  /** Starts the chain: the first step. Called once, before the first byte. */
  protected abstract void start();

  /** For the JPEG entropy-coded data: consume from {@code in} at {@code pos}, return the new position. */
  protected int scan(Buffer in, int pos) {
    throw new IllegalStateException("no scan mode in this format");
  }

  /**
   * Consumes one chunk of the upload and returns the bytes to store for it (possibly none).
   *
   * @throws AvatarException when the image is refused
   */
  public final Buffer feed(Buffer in) {
    if (!started) {
      started = true;
      start();
    }
    source = in;
    sliceFrom = -1;
    built = null;
    int pos = 0;
    int length = in.length();
    while (pos < length) {
      switch (mode) {
        case COLLECT -> {
          int n = Math.min(collected.length - filled, length - pos);
          in.getBytes(pos, pos + n, collected, filled);
          filled += n;
          pos += n;
          if (filled == collected.length) {
            Consumer<byte[]> then = onCollected;
            byte[] bytes = collected;
            onCollected = null;
            collected = null;
            then.accept(bytes);
            if (mode == Mode.COLLECT && collected == null) {
              throw new IllegalStateException(getClass().getSimpleName() + " chose no next step");
            }
          }
        }
        case COPY, DROP -> {
          int n = (int) Math.min(remaining, length - pos);
          if (mode == Mode.COPY) {
            emit(in, pos, n);
          }
          pos += n;
          remaining -= n;
          if (remaining == 0) {
            Runnable then = onRun;
            onRun = null;
            then.run();
          }
        }
        case SCAN -> pos = scan(in, pos);
        case TRAILER -> {
          for (; pos < length; pos++) {
            if (in.getByte(pos) != 0) {
              throw refuse("Data follows the end of the image; polyglot files are refused");
            }
          }
        }
      }
    }
    Buffer result;
    if (built != null) {
      result = built;
    } else if (sliceFrom < 0) {
      result = EMPTY;
    } else {
      result = sliceFrom == 0 && sliceTo == in.length() ? in : in.slice(sliceFrom, sliceTo);
    }
    source = null;
    built = null;
    return result;
  }

  private static final Buffer EMPTY = Buffer.buffer(0);

  /** From here on, what is stored from this chunk is built in a buffer of its own. */
  private Buffer built() {
    if (built == null) {
      built = Buffer.buffer(source.length() + 64);
      if (sliceFrom >= 0) {
        built.appendBuffer(source, sliceFrom, sliceTo - sliceFrom);
      }
    }
    return built;
  }

  /** End of the upload: fails unless the image ended; returns the patches to apply. */
  public final List<Patch> finish() {
    if (!ended) {
      throw refuse("The image is truncated");
    }
    if (width == null || height == null) {
      throw refuse("The image has no dimensions");
    }
    finished();
    return List.copyOf(patches);
  }

  /** Hook at the end of a complete image, to add patches. */
  protected void finished() {
  }

  public Integer width() {
    return width;
  }

  public Integer height() {
    return height;
  }

  /** Bytes stored so far. */
  protected final long written() {
    return written;
  }

  protected final void collect(int n, Consumer<byte[]> then) {
    if (n < 0 || n > MAX_COLLECT) {
      throw refuse("A header field is out of range");
    }
    if (n == 0) {
      then.accept(new byte[0]);
      return;
    }
    mode = Mode.COLLECT;
    collected = new byte[n];
    filled = 0;
    onCollected = then;
  }

  protected final void copy(long n, Runnable then) {
    run(Mode.COPY, n, then);
  }

  protected final void drop(long n, Runnable then) {
    run(Mode.DROP, n, then);
  }

  private void run(Mode runMode, long n, Runnable then) {
    if (n < 0) {
      throw refuse("A length is out of range");
    }
    if (n == 0) {
      then.run();
      return;
    }
    mode = runMode;
    remaining = n;
    onRun = then;
  }

  /** Enters the format's scan mode ({@link #scan}). */
  protected final void scanMode() {
    mode = Mode.SCAN;
  }

  protected final void emit(byte[] bytes) {
    emit(bytes, 0, bytes.length);
  }

  protected final void emit(byte[] bytes, int offset, int length) {
    if (length > 0) {
      built().appendBytes(bytes, offset, length);
      written += length;
    }
  }

  /** Stores bytes of the chunk being fed: a contiguous run of it stays a slice, without a copy. */
  protected final void emit(Buffer in, int offset, int length) {
    if (length <= 0) {
      return;
    }
    if (built == null && in == source && (sliceFrom < 0 || sliceTo == offset)) {
      if (sliceFrom < 0) {
        sliceFrom = offset;
      }
      sliceTo = offset + length;
    } else {
      built().appendBuffer(in, offset, length);
    }
    written += length;
  }

  /** The image's last byte has been read: only zero padding may follow. */
  protected final void end() {
    ended = true;
    mode = Mode.TRAILER;
  }

  protected final void patch(long position, byte[] bytes) {
    patches.add(new Patch(position, bytes));
  }

  /** Records the dimensions and refuses a pixel flood at once. */
  protected final void dimensions(long w, long h) {
    checkDimensions(w, h);
    if (width == null) {
      width = (int) w;
      height = (int) h;
    }
  }

  /** Refuses a frame (a GIF image, an animation frame) that is a pixel flood on its own. */
  protected final void checkDimensions(long w, long h) {
    if (w <= 0 || h <= 0) {
      throw refuse("The image has a zero dimension");
    }
    if (w > limits.maxDimension() || h > limits.maxDimension()) {
      throw refuse("The image is " + w + "×" + h + "; the largest side allowed is " + limits.maxDimension());
    }
    if (w * h > limits.maxPixels()) {
      throw refuse("The image has " + (w * h) + " pixels; at most " + limits.maxPixels() + " are allowed");
    }
  }

  protected final boolean stripMetadata() {
    return limits.stripMetadata();
  }

  protected static AvatarException refuse(String detail) {
    return Failure.INVALID_IMAGE.exception(detail);
  }

  static int u16be(byte[] b, int i) {
    return (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
  }

  static int u16le(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
  }

  static int u24le(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16;
  }

  static long u32be(byte[] b, int i) {
    return ((long) (b[i] & 0xff) << 24) | (b[i + 1] & 0xff) << 16 | (b[i + 2] & 0xff) << 8 | (b[i + 3] & 0xff);
  }

  static long u32le(byte[] b, int i) {
    return ((long) (b[i + 3] & 0xff) << 24) | (b[i + 2] & 0xff) << 16 | (b[i + 1] & 0xff) << 8 | (b[i] & 0xff);
  }

  static boolean startsWith(byte[] b, String ascii) {
    if (b.length < ascii.length()) {
      return false;
    }
    for (int i = 0; i < ascii.length(); i++) {
      if (b[i] != (byte) ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
