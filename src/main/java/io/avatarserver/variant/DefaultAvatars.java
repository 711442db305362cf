package io.avatarserver.variant;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Default avatars for users without one ({@code d=identicon}, {@code d=initials}, {@code d=mp}):
 * rendered with Java2D at the snapped size, encoded, and kept in a bounded in-memory cache, so a page
 * of users without avatars costs no CPU after its first view.
 *
 * <ul>
 *   <li>identicon: a GitHub-style symmetric 5×5 grid from the SHA-256 of the user id, a colour from
 *       the same hash on a light background; cells on whole pixels, no antialiasing, crisp at every
 *       size.</li>
 *   <li>initials: up to two letters of the user's name ({@link DefaultAvatarInitials}), white, centred
 *       and antialiased on a colour of {@link #PALETTE} chosen from the user id; in the bold sans-serif
 *       font, or in the built-in stroke font when the machine has no font (or none with the letter).</li>
 *   <li>mp: a grey silhouette (head and shoulders), the same for everyone.</li>
 * </ul>
 *
 * <p>Threads: {@link #cached} only looks in the cache and may run on an event loop. {@link #get} and
 * {@link #image} BLOCK (rasterising and encoding, milliseconds for large sizes): run them on a worker
 * thread ({@code executeBlocking}), never on an event loop. Concurrent {@link #get}s of the same
 * image render it once. Wiring, on the event loop:
 * <pre>{@code
 * Future<DefaultAvatar> image = avatars.cached(kind, user.id(), user.name(), size, format)
 *   .map(Future::succeededFuture)
 *   .orElseGet(() -> vertx.executeBlocking(() -> avatars.get(kind, user.id(), user.name(), size, format), false));
 * }</pre>
 *
 * <p>The cache is keyed by what the image depends on: (identicon, user id), (initials, the initials and
 * the colour), or (mp) alone, with the size and the format; it holds the encoded bytes and their ETag
 * and is bounded by {@link DefaultAvatarSettings#maxCacheEntries()} and
 * {@link DefaultAvatarSettings#maxCacheBytes()}, least recently used first out.
 */
public final class DefaultAvatars {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultAvatars.class);

  static {
    // Rendering into images needs no display; never let AWT look for one.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /**
   * Initials backgrounds: Material 800-ish shades, each with a contrast of at least 4.5:1 against
   * white text (WCAG AA for normal text).
   */
  static final List<Color> PALETTE = List.of(
    new Color(0xC62828), new Color(0xAD1457), new Color(0x6A1B9A), new Color(0x4527A0),
    new Color(0x283593), new Color(0x1565C0), new Color(0x0277BD), new Color(0x00695C),
    new Color(0x2E7D32), new Color(0xBF360C), new Color(0x4E342E), new Color(0x37474F));

  static final Color IDENTICON_BACKGROUND = new Color(0xF0F0F0);
  static final Color MP_BACKGROUND = new Color(0xE0E0E0);
  static final Color MP_FIGURE = new Color(0x9E9E9E);

  /** Initials are this tall (their cap height) against the size, and never wider or taller than 72 %. */
  private static final double INITIALS_CAP_HEIGHT = 0.40;
  private static final double INITIALS_MAX_EXTENT = 0.72;
  /** A rough per-entry cost of the cache beyond the bytes (key, record, map node). */
  static final int ENTRY_OVERHEAD = 160;

  private final DefaultAvatarSettings settings;
  private final Map<VariantFormat, DefaultAvatarEncoder> encoders;
  private final DefaultAvatarGlyphs font;
  private final DefaultAvatarGlyphs builtIn = DefaultAvatarGlyphs.builtIn();
  private volatile boolean fontBroken;

  private final LinkedHashMap<Key, DefaultAvatar> cache = new LinkedHashMap<>(64, 0.75f, true);
  private long cacheBytes;
  private final ConcurrentHashMap<Key, CompletableFuture<DefaultAvatar>> inFlight = new ConcurrentHashMap<>();
  private final AtomicLong renders = new AtomicLong();

  /** What an image depends on, besides its size and format. */
  private record Key(DefaultAvatarKind kind, String subject, int size, VariantFormat format) {
  }

  /** PNG only. */
  public DefaultAvatars(DefaultAvatarSettings settings) {
    this(settings, Map.of(VariantFormat.PNG, DefaultAvatarEncoder.PNG));
  }

  /** With these encoders (PNG, and WebP when the lead's encoder is there). */
  public DefaultAvatars(DefaultAvatarSettings settings, Map<VariantFormat, DefaultAvatarEncoder> encoders) {
    this(settings, encoders, DefaultAvatarGlyphs.font());
  }

  /** Test seam: {@code font} stands for the machine's fonts (a missing one throws as the JDK does). */
  DefaultAvatars(DefaultAvatarSettings settings, Map<VariantFormat, DefaultAvatarEncoder> encoders,
                 DefaultAvatarGlyphs font) {
    if (encoders.isEmpty()) {
      throw new IllegalArgumentException("at least one encoder is required");
    }
    this.settings = settings;
    this.encoders = Map.copyOf(encoders);
    this.font = font;
  }

  public DefaultAvatarSettings settings() {
    return settings;
  }

  /** Whether images can be had in this format. */
  public boolean supports(VariantFormat format) {
    return encoders.containsKey(format);
  }

  /** The configured size a requested size is served at. */
  public int snap(int requestedSize) {
    return settings.snap(requestedSize);
  }

  /**
   * The cached image, if there is one. Does not block (a lookup under a short lock): may run on an
   * event loop, so a hit needs no worker thread.
   *
   * @param userName the user's name (only {@link DefaultAvatarKind#INITIALS} reads it; may be null)
   */
  public Optional<DefaultAvatar> cached(DefaultAvatarKind kind, long userId, String userName, int requestedSize,
                                        VariantFormat format) {
    return Optional.ofNullable(lookup(key(kind, userId, userName, requestedSize, format)));
  }

  /**
   * The image at the snapped size, from the cache or rendered, encoded and cached. BLOCKS on a miss:
   * call on a worker thread.
   *
   * @throws IllegalArgumentException for {@link DefaultAvatarKind#NONE} or a format without encoder
   * @throws IOException when the encoder fails
   */
  public DefaultAvatar get(DefaultAvatarKind kind, long userId, String userName, int requestedSize,
                           VariantFormat format) throws IOException {
    Key key = key(kind, userId, userName, requestedSize, format);
    DefaultAvatar hit = lookup(key);
    if (hit != null) {
      return hit;
    }
    CompletableFuture<DefaultAvatar> mine = new CompletableFuture<>();
    CompletableFuture<DefaultAvatar> other = inFlight.putIfAbsent(key, mine);
    if (other != null) {
      return await(other);
    }
    try {
      DefaultAvatar avatar = lookup(key); // rendered by a thread that finished since the first look
      if (avatar == null) {
        BufferedImage image = image(kind, userId, userName, key.size());
        byte[] bytes = encoders.get(format).encode(image);
        avatar = new DefaultAvatar(kind, key.size(), format, bytes, etag(bytes));
        store(key, avatar);
      }
      mine.complete(avatar);
      return avatar;
    } catch (Throwable t) {
      mine.completeExceptionally(t);
      throw t;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  /**
   * Renders the image at exactly {@code size} pixels, uncached (the seam for other encoders). BLOCKS:
   * call on a worker thread.
   */
  public BufferedImage image(DefaultAvatarKind kind, long userId, String userName, int size) {
    if (size < 1 || size > DefaultAvatarSettings.MAX_SIZE) {
      throw new IllegalArgumentException("size must be 1 to " + DefaultAvatarSettings.MAX_SIZE + ", was " + size);
    }
    BufferedImage image = switch (kind) {
      case IDENTICON -> identicon(userId, size);
      case INITIALS -> initials(DefaultAvatarInitials.of(userName), colour(userId), size);
      case MP -> mp(size);
      case NONE -> throw new IllegalArgumentException("d=404 has no image");
    };
    renders.incrementAndGet();
    return image;
  }

  /** How many images have been rendered (cache misses); for tests and metrics. */
  public long renders() {
    return renders.get();
  }

  /** How many images the cache holds. */
  public int cachedEntries() {
    synchronized (cache) {
      return cache.size();
    }
  }

  /** What the cache holds, in bytes (encoded bytes plus a per-entry overhead). */
  public long cachedBytes() {
    synchronized (cache) {
      return cacheBytes;
    }
  }

  // ---- the cache

  private Key key(DefaultAvatarKind kind, long userId, String userName, int requestedSize, VariantFormat format) {
    if (!supports(format)) {
      throw new IllegalArgumentException("no encoder for " + format);
    }
    int size = settings.snap(requestedSize);
    return switch (kind) {
      case IDENTICON -> new Key(kind, Long.toString(userId), size, format);
      case INITIALS -> new Key(kind,
        DefaultAvatarInitials.text(DefaultAvatarInitials.of(userName)) + "|" + PALETTE.indexOf(colour(userId)), size,
        format);
      case MP -> new Key(kind, "", size, format);
      case NONE -> throw new IllegalArgumentException("d=404 has no image");
    };
  }

  private DefaultAvatar lookup(Key key) {
    synchronized (cache) {
      return cache.get(key);
    }
  }

  private void store(Key key, DefaultAvatar avatar) {
    long cost = avatar.bytes().length + ENTRY_OVERHEAD;
    if (settings.maxCacheEntries() < 1 || cost > settings.maxCacheBytes()) {
      return;
    }
    synchronized (cache) {
      DefaultAvatar old = cache.put(key, avatar);
      if (old != null) {
        cacheBytes -= old.bytes().length + ENTRY_OVERHEAD;
      }
      cacheBytes += cost;
      var eldest = cache.entrySet().iterator();
      while (cache.size() > settings.maxCacheEntries() || cacheBytes > settings.maxCacheBytes()) {
        DefaultAvatar evicted = eldest.next().getValue();
        eldest.remove();
        cacheBytes -= evicted.bytes().length + ENTRY_OVERHEAD;
      }
    }
  }

  private static DefaultAvatar await(CompletableFuture<DefaultAvatar> other) throws IOException {
    try {
      return other.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException(io.getMessage(), io);
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /** The quoted hex SHA-256 of the bytes: a strong ETag, the same form as an uploaded avatar's. */
  static String etag(byte[] bytes) {
    return "\"" + HexFormat.of().formatHex(sha256(bytes)) + "\"";
  }

  // ---- identicon

  /** The hash every per-user choice comes from: SHA-256 of the decimal user id. */
  static byte[] idHash(long userId) {
    return sha256(Long.toString(userId).getBytes(StandardCharsets.US_ASCII));
  }

  /** Cells of the left three columns (the right two mirror them): bit {@code column * 5 + row}. */
  static int identiconCells(byte[] hash) {
    int bits = ((hash[0] & 0xFF) << 8 | (hash[1] & 0xFF)) & 0x7FFF;
    return bits == 0 ? 0x7FFF : bits;
  }

  static Color identiconColour(byte[] hash) {
    int hue = ((hash[2] & 0xFF) << 8 | (hash[3] & 0xFF)) % 360;
    double saturation = 0.45 + (hash[4] & 0xFF) / 255.0 * 0.20;
    double lightness = 0.40 + (hash[5] & 0xFF) / 255.0 * 0.15;
    return hsl(hue, saturation, lightness);
  }

  /**
   * Pixel edges of the 5 cells on one axis: a margin of about 1/12 of the size, every edge on a whole
   * pixel, and mirror-symmetric (edge {@code 5 - i} is {@code size - edge i}), so mirrored cells are
   * exactly as wide.
   */
  static int[] identiconEdges(int size) {
    int margin = Math.round(size / 12f);
    int grid = size - 2 * margin;
    int[] edges = new int[6];
    for (int i = 0; i <= 2; i++) {
      edges[i] = margin + (int) Math.round(i * grid / 5.0);
      edges[5 - i] = size - edges[i];
    }
    return edges;
  }

  private static BufferedImage identicon(long userId, int size) {
    byte[] hash = idHash(userId);
    int cells = identiconCells(hash);
    int[] edges = identiconEdges(size);
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
      g.setColor(IDENTICON_BACKGROUND);
      g.fillRect(0, 0, size, size);
      g.setColor(identiconColour(hash));
      for (int column = 0; column < 3; column++) {
        for (int row = 0; row < 5; row++) {
          if ((cells >> (column * 5 + row) & 1) != 0) {
            int y = edges[row];
            int h = edges[row + 1] - y;
            g.fillRect(edges[column], y, edges[column + 1] - edges[column], h);
            g.fillRect(edges[4 - column], y, edges[5 - column] - edges[4 - column], h);
          }
        }
      }
    } finally {
      g.dispose();
    }
    return image;
  }

  // ---- initials

  /** The initials background of a user: from the id's hash, not the name, so a rename keeps it. */
  static Color colour(long userId) {
    byte[] hash = idHash(userId);
    int n = (hash[6] & 0xFF) << 24 | (hash[7] & 0xFF) << 16 | (hash[8] & 0xFF) << 8 | (hash[9] & 0xFF);
    return PALETTE.get(Math.floorMod(n, PALETTE.size()));
  }

  private BufferedImage initials(List<String> initials, Color background, int size) {
    Glyphs glyphs = glyphs(initials);
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = smooth(image);
    try {
      g.setColor(background);
      g.fillRect(0, 0, size, size);
      Rectangle2D bounds = glyphs.outline.getBounds2D();
      double scale = size * INITIALS_CAP_HEIGHT / glyphs.capHeight;
      double max = size * INITIALS_MAX_EXTENT;
      if (bounds.getWidth() * scale > max) {
        scale = max / bounds.getWidth();
      }
      if (bounds.getHeight() * scale > max) {
        scale = max / bounds.getHeight();
      }
      AffineTransform at = AffineTransform.getTranslateInstance(size / 2.0, size / 2.0);
      at.scale(scale, scale);
      at.translate(-bounds.getCenterX(), -bounds.getCenterY());
      g.setColor(Color.WHITE);
      g.fill(at.createTransformedShape(glyphs.outline));
    } finally {
      g.dispose();
    }
    return image;
  }

  private record Glyphs(Shape outline, double capHeight) {
  }

  /**
   * The outline of the initials: in the font if it draws them, else in the built-in stroke font;
   * then their letters without accents ("É" as "E"); then "?", which the built-in font always draws.
   * A font system that throws (no fonts, no fontconfig) is not asked again.
   */
  private Glyphs glyphs(List<String> initials) {
    List<List<String>> candidates = List.of(initials, folded(initials), DefaultAvatarInitials.FALLBACK);
    for (List<String> text : candidates) {
      if (text.isEmpty()) {
        continue;
      }
      if (!fontBroken) {
        try {
          Optional<Shape> outline = font.outline(text);
          if (outline.isPresent() && !outline.get().getBounds2D().isEmpty()) {
            return new Glyphs(outline.get(), font.capHeight());
          }
        } catch (OutOfMemoryError e) {
          throw e;
        } catch (Throwable e) {
          // Not only Errors but InternalError (a VirtualMachineError): the JDK's "Fontconfig head is null".
          fontBroken = true;
          LOG.warn("No usable font for initials avatars ({}); drawing them with the built-in stroke font", e.toString());
        }
      }
      Optional<Shape> outline = builtIn.outline(text);
      if (outline.isPresent()) {
        return new Glyphs(outline.get(), builtIn.capHeight());
      }
    }
    throw new IllegalStateException("the built-in font draws \"?\"");
  }

  /** The initials without their marks ("É" as "E"), or empty when that leaves one without a letter. */
  private static List<String> folded(List<String> initials) {
    List<String> out = new ArrayList<>(initials.size());
    for (String grapheme : initials) {
      String base = Normalizer.normalize(grapheme, Normalizer.Form.NFD).replaceAll("\\p{M}", "");
      if (base.isEmpty()) {
        return List.of();
      }
      out.add(base);
    }
    return out;
  }

  // ---- mp

  private static BufferedImage mp(int size) {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = smooth(image);
    try {
      g.setColor(MP_BACKGROUND);
      g.fillRect(0, 0, size, size);
      g.setColor(MP_FIGURE);
      double r = 0.19 * size;
      g.fill(new Ellipse2D.Double(0.5 * size - r, 0.40 * size - r, 2 * r, 2 * r));
      g.fill(new Ellipse2D.Double(0.17 * size, 0.66 * size, 0.66 * size, 0.70 * size));
    } finally {
      g.dispose();
    }
    return image;
  }

  // ---- helpers

  private static Graphics2D smooth(BufferedImage image) {
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    return g;
  }

  static Color hsl(double hue, double saturation, double lightness) {
    double c = (1 - Math.abs(2 * lightness - 1)) * saturation;
    double x = c * (1 - Math.abs((hue / 60) % 2 - 1));
    double m = lightness - c / 2;
    double r, gr, b;
    if (hue < 60) { r = c; gr = x; b = 0; }
    else if (hue < 120) { r = x; gr = c; b = 0; }
    else if (hue < 180) { r = 0; gr = c; b = x; }
    else if (hue < 240) { r = 0; gr = x; b = c; }
    else if (hue < 300) { r = x; gr = 0; b = c; }
    else { r = c; gr = 0; b = x; }
    return new Color((int) Math.round((r + m) * 255), (int) Math.round((gr + m) * 255), (int) Math.round((b + m) * 255));
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
