package io.avatarserver.limits;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets by key (a user id, a client address): {@code burst} requests at once, then
 * {@code perSecond} sustained. Thread-safe, shared by every event loop. Buckets that have refilled
 * completely carry no information and are dropped by {@link #evictIdle}, so memory follows the
 * number of recently active keys, not of all keys ever seen.
 */
public final class RateLimiter {

  private final double perNano;
  private final double capacity;
  private final ConcurrentHashMap<Object, Bucket> buckets = new ConcurrentHashMap<>();

  /** {@code perSecond} 0 disables the limiter. */
  public RateLimiter(double perSecond, int burst) {
    this.perNano = perSecond / 1e9;
    this.capacity = Math.max(1, burst);
  }

  /** Takes one token for {@code key}: 0 when allowed, otherwise the whole seconds to wait (at least 1). */
  public long tryAcquire(Object key, long nowNanos) {
    if (perNano == 0) {
      return 0;
    }
    Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket(capacity, nowNanos));
    synchronized (bucket) {
      bucket.refill(nowNanos, perNano, capacity);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      double missingNanos = (1 - bucket.tokens) / perNano;
      return Math.max(1, (long) Math.ceil(missingNanos / 1e9));
    }
  }

  /** Drops the buckets that are full again. */
  public void evictIdle(long nowNanos) {
    buckets.entrySet().removeIf(entry -> {
      Bucket bucket = entry.getValue();
      synchronized (bucket) {
        bucket.refill(nowNanos, perNano, capacity);
        return bucket.tokens >= capacity;
      }
    });
  }

  /** Keys with a bucket right now. */
  public int size() {
    return buckets.size();
  }

  private static final class Bucket {
    private double tokens;
    private long last;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.last = now;
    }

    void refill(long now, double perNano, double capacity) {
      if (now > last) {
        tokens = Math.min(capacity, tokens + (now - last) * perNano);
        last = now;
      }
    }
  }
}
