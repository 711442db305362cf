package io.avatarserver.variant;

import java.util.List;
import java.util.TreeSet;

/**
 * How default avatars are sized and cached: the sizes a request is snapped to (ascending, distinct,
 * 1 to {@link #MAX_SIZE}), and the bounds of the cache of encoded images (entries and bytes; the
 * least recently used entries go first).
 */
public record DefaultAvatarSettings(List<Integer> sizes, int maxCacheEntries, long maxCacheBytes) {
  public static final int MAX_SIZE = 2048;
  public static final List<Integer> DEFAULT_SIZES = List.of(16, 32, 48, 64, 80, 96, 128, 160, 256, 320, 512, 1024);
  /** 4096 entries, 32 MiB: a few thousand users' small identicons, or every mp and a few hundred large ones. */
  public static final DefaultAvatarSettings DEFAULT = new DefaultAvatarSettings(DEFAULT_SIZES, 4096, 32L << 20);

  public DefaultAvatarSettings {
    if (sizes == null || sizes.isEmpty()) {
      throw new IllegalArgumentException("at least one size is required");
    }
    TreeSet<Integer> sorted = new TreeSet<>();
    for (Integer size : sizes) {
      if (size == null || size < 1 || size > MAX_SIZE) {
        throw new IllegalArgumentException("sizes must be 1 to " + MAX_SIZE + ", was " + size);
      }
      sorted.add(size);
    }
    sizes = List.copyOf(sorted);
    if (maxCacheEntries < 0 || maxCacheBytes < 0) {
      throw new IllegalArgumentException("cache bounds must not be negative");
    }
  }

  /**
   * The configured size for a requested one: the smallest that is at least {@code requested}, or the
   * largest when it asks for more (a browser scales down a larger image crisply; scaling up blurs).
   */
  public int snap(int requested) {
    for (int size : sizes) {
      if (size >= requested) {
        return size;
      }
    }
    return sizes.get(sizes.size() - 1);
  }
}
