package io.avatarserver.variant.vips;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvips, loaded and initialised once for the process: {@link #load()} answers the same instance or
 * the same reason every time. Initialisation sets libvips up for a server that renders untrusted
 * uploads on worker threads:
 * <ul>
 *   <li>one worker thread per operation ({@code vips_concurrency_set(1)}): renders run in parallel on
 *       the caller's threads, not inside libvips;</li>
 *   <li>no operation cache ({@code vips_cache_set_max(0)}, no memory, no open files): nothing is kept
 *       between renders;</li>
 *   <li>every loader blocked but JPEG, PNG, WebP and GIF: {@code vips_block_untrusted_set(TRUE)}, then
 *       {@code vips_operation_block_set("VipsForeignLoad", TRUE)} and the four families unblocked.
 *       SVG, PDF, TIFF, HEIF, matrix, CSV, the native {@code .v} format, ImageMagick, … are refused
 *       even when the bytes are theirs.</li>
 * </ul>
 * Needs libvips 8.13 or later (the blocking API); Debian bookworm's {@code libvips42} is 8.14.
 */
public final class Vips {

  /** What a developer or an operator should run when libvips is missing. */
  public static final String INSTALL_HINT = "install it with: apt-get install libvips42";

  /** The loader classes that stay allowed (8.14 names; the GIF loader was VipsForeignLoadGif before 8.11). */
  static final List<String> ALLOWED_LOADERS = List.of(
    "VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp", "VipsForeignLoadNsgif",
    "VipsForeignLoadGif");

  /** Library names tried in order: the development link first, then Debian's runtime soname. */
  private static final List<String> LIBRARY_NAMES = List.of("vips", "libvips.so.42");

  /** The NULL that ends libvips' optional-argument lists (typed, so Java passes it as one argument). */
  public static final Object END = null;

  private static final int VIPS_ACCESS_SEQUENTIAL = 1;

  private static volatile Object state; // Vips or VipsUnavailableException

  private static final Logger LOG = LoggerFactory.getLogger(Vips.class);

  // GLogLevelFlags
  private static final int G_LOG_LEVEL_CRITICAL = 1 << 3;
  private static final int G_LOG_LEVEL_WARNING = 1 << 4;
  private static final int G_LOG_LEVEL_MESSAGE = 1 << 5;

  /**
   * libvips' GLib messages ("VIPS-WARNING: error in tile …", mostly about broken uploads, which the
   * render then refuses with its own reason) go to this class's logger at DEBUG instead of stderr;
   * criticals at WARN. Held here for good: libvips may call it from any thread at any time.
   */
  private static final VipsLib.LogFn LOG_HANDLER = (domain, level, message, data) -> {
    if ((level & G_LOG_LEVEL_CRITICAL) != 0) {
      LOG.warn("libvips: {}", message);
    } else {
      LOG.debug("libvips: {}", message);
    }
  };

  private final VipsLib lib;
  private final String version;

  private Vips(VipsLib lib, String version) {
    this.lib = lib;
    this.version = version;
  }

  /**
   * libvips, initialised: thread-safe and lazy, done once.
   *
   * @throws VipsUnavailableException when the library cannot be loaded, is too old, or fails to start;
   *     its message names the cause and {@link #INSTALL_HINT}
   */
  public static Vips load() throws VipsUnavailableException {
    Object s = state;
    if (s == null) {
      synchronized (Vips.class) {
        s = state;
        if (s == null) {
          try {
            s = init(LIBRARY_NAMES);
          } catch (VipsUnavailableException e) {
            s = e;
          }
          state = s;
        }
      }
    }
    if (s instanceof VipsUnavailableException e) {
      // A fresh exception for this caller's stack, the same reason.
      throw new VipsUnavailableException(e.getMessage(), e);
    }
    return (Vips) s;
  }

  /** libvips when it loads, else empty (the reason is {@link #unavailableReason()}). */
  public static Optional<Vips> available() {
    try {
      return Optional.of(load());
    } catch (VipsUnavailableException e) {
      return Optional.empty();
    }
  }

  /** Why libvips cannot be used here, or empty when it can. */
  public static Optional<String> unavailableReason() {
    try {
      load();
      return Optional.empty();
    } catch (VipsUnavailableException e) {
      return Optional.of(e.getMessage());
    }
  }

  /** Loads and starts libvips from the first of {@code names} that loads (tests pass others). */
  static Vips init(List<String> names) throws VipsUnavailableException {
    VipsLib lib = null;
    List<String> failures = new ArrayList<>();
    for (String name : names) {
      try {
        lib = Native.load(name, VipsLib.class, Map.of());
        break;
      } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
        failures.add(name + ": " + e.getMessage());
      }
    }
    if (lib == null) {
      throw new VipsUnavailableException(
        "libvips cannot be loaded (" + String.join("; ", failures) + "); " + INSTALL_HINT);
    }
    int major;
    int minor;
    int micro;
    try {
      major = lib.vips_version(0);
      minor = lib.vips_version(1);
      micro = lib.vips_version(2);
    } catch (UnsatisfiedLinkError e) {
      throw new VipsUnavailableException("the library loaded as libvips is not libvips: " + e.getMessage()
        + "; " + INSTALL_HINT, e);
    }
    String version = major + "." + minor + "." + micro;
    if (major < 8 || (major == 8 && minor < 13)) {
      throw new VipsUnavailableException("libvips " + version
        + " is too old: loader blocking needs 8.13 or later; " + INSTALL_HINT);
    }
    if (lib.vips_init("avatar-server") != 0) {
      String reason = lib.vips_error_buffer();
      lib.vips_error_clear();
      throw new VipsUnavailableException("libvips " + version + " failed to start: " + reason);
    }
    // Info and debug stay with GLib's default handler, which drops them unless G_MESSAGES_DEBUG is set.
    lib.g_log_set_handler("VIPS", G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
      LOG_HANDLER, null);
    lib.vips_concurrency_set(1);
    lib.vips_cache_set_max(0);
    lib.vips_cache_set_max_mem(0);
    lib.vips_cache_set_max_files(0);
    lib.vips_block_untrusted_set(1);
    lib.vips_operation_block_set("VipsForeignLoad", 1);
    for (String loader : ALLOWED_LOADERS) {
      lib.vips_operation_block_set(loader, 0);
    }
    return new Vips(lib, version);
  }

  /** The raw binding, for callers that know libvips' API (the engine, its tests and benchmark). */
  public VipsLib lib() {
    return lib;
  }

  /** {@code major.minor.micro} of the loaded library. */
  public String version() {
    return version;
  }

  /** libvips' error buffer, cleared: the reason the last failed call gave (process-wide, best effort). */
  public String takeError() {
    String message = lib.vips_error_buffer();
    lib.vips_error_clear();
    if (message == null || message.isBlank()) {
      return "unknown libvips error";
    }
    return message.strip().replace('\n', ' ');
  }

  /** Opens {@code file}'s header only, in sequential mode, through the allowed loaders. */
  Pointer openHeader(Pointer source) {
    return lib.vips_image_new_from_source(source, "", "access", VIPS_ACCESS_SEQUENTIAL, END);
  }

  /** How many VipsObjects (images, sources, operations) are alive in the process. */
  public long liveObjects() {
    AtomicLong count = new AtomicLong();
    VipsLib.ObjectMapFn counter = (item, a, b) -> {
      count.incrementAndGet();
      return null;
    };
    lib.vips_object_map(counter, null, null);
    return count.get();
  }

  /** Bytes of pixel memory libvips has allocated and not yet freed. */
  public long trackedMemory() {
    return lib.vips_tracked_get_mem();
  }

  /** Pixel buffers libvips has allocated and not yet freed. */
  public int trackedAllocations() {
    return lib.vips_tracked_get_allocs();
  }

  void unref(Pointer object) {
    if (object != null) {
      lib.g_object_unref(object);
    }
  }
}
