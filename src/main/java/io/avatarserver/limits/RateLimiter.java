package io.avatarserver.limits;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets by key (a user id, a client address): {@code burst} requests at once, then
 * {@code perSecond} sustained. Thread-safe, shared by every event loop. Buckets that have refilled
 * completely carry no information and are dropped by {@link #evictIdle}, so memory follows the
 * number of recently active keys, not of all keys ever seen.
 *
 * <p>A bucket is kept as the instant it will be full again (the generic cell rate algorithm), in
 * whole nanoseconds: no fractional tokens whose rounding adds up, so a client that waits the time it
 * is told is let in, however often it asked meanwhile. Timestamps are {@link System#nanoTime} values,
 * compared by their difference only, as its contract requires.
 */
public final class RateLimiter {

  private static final long SECOND = 1_000_000_000L;
  /**
   * Longest span kept (2^61 ns, 73 years; slower rates and longer bursts are cut to it), so that no
   * sum of spans and timestamp differences overflows.
   */
  private static final long MAX_SPAN = Long.MAX_VALUE / 4;

  /** Nanoseconds a token takes to come back; 0 when the limiter is disabled. */
  private final long interval;
  /** Nanoseconds a full bucket takes to refill from empty: {@code burst} intervals. */
  private final long capacity;
  private final ConcurrentHashMap<Object, Bucket> buckets = new ConcurrentHashMap<>();

  /** {@code perSecond} 0 disables the limiter; a {@code burst} below 1 counts as 1. */
  public RateLimiter(double perSecond, int burst) {
    if (!(perSecond >= 0)) {
      throw new IllegalArgumentException("perSecond must be 0 or more, not " + perSecond);
    }
    if (perSecond == 0) {
      this.interval = 0;
      this.capacity = 0;
    } else {
      this.interval = Math.min(MAX_SPAN, Math.max(1, Math.round(SECOND / perSecond)));
      long tokens = Math.max(1, burst);
      this.capacity = tokens > MAX_SPAN / interval ? MAX_SPAN : interval * tokens;
    }
  }

  /** Takes one token for {@code key}: 0 when allowed, otherwise the whole seconds to wait (at least 1). */
  public long tryAcquire(Object key, long nowNanos) {
    if (interval == 0) {
      return 0;
    }
    Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket(nowNanos));
    synchronized (bucket) {
      long full = bucket.fullAt - nowNanos > 0 ? bucket.fullAt : nowNanos;
      long fullAfter = full + interval;
      long tooEarly = fullAfter - nowNanos - capacity;
      if (tooEarly <= 0) {
        bucket.fullAt = fullAfter;
        return 0;
      }
      return Math.max(1, (tooEarly + SECOND - 1) / SECOND);
    }
  }

  /** Drops the buckets that are full again. */
  public void evictIdle(long nowNanos) {
    buckets.entrySet().removeIf(entry -> {
      Bucket bucket = entry.getValue();
      synchronized (bucket) {
        return bucket.fullAt - nowNanos <= 0;
      }
    });
  }

  /** Keys with a bucket right now: for tests, the one way to see {@link #evictIdle} free memory. */
  int size() {
    return buckets.size();
  }

  private static final class Bucket {
    /** The instant (nanoTime) from which the bucket is full. */
    private long fullAt;

    Bucket(long now) {
      this.fullAt = now;
    }
  }
}
