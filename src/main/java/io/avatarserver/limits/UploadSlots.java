package io.avatarserver.limits;

import io.avatarserver.avatar.Failure;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds uploads in flight: in the whole server (beyond: 503, the server is busy) and per user
 * (beyond: 429, this user is). Shared by every event loop.
 */
public final class UploadSlots {

  /** What a refused client is told to wait, in seconds: uploads in flight usually end within it. */
  static final long RETRY_AFTER_SECONDS = 1;

  private final int maxTotal;
  private final int maxPerUser;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<Long, Integer> perUser = new ConcurrentHashMap<>();

  /** 0 disables a bound. */
  public UploadSlots(int maxTotal, int maxPerUser) {
    this.maxTotal = maxTotal;
    this.maxPerUser = maxPerUser;
  }

  /**
   * Claims a slot for an upload by {@code userId} and returns its release (idempotent). Throws a
   * {@code AvatarException}: BUSY when the server is full, RATE_LIMITED when the user is.
   */
  public Runnable acquire(long userId) {
    if (maxTotal > 0 && total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      throw Failure.BUSY.exception("The server has " + maxTotal + " uploads in flight; try again shortly",
        RETRY_AFTER_SECONDS);
    }
    if (maxPerUser > 0) {
      boolean[] granted = {false};
      perUser.compute(userId, (id, count) -> {
        int current = count == null ? 0 : count;
        if (current >= maxPerUser) {
          return count;
        }
        granted[0] = true;
        return current + 1;
      });
      if (!granted[0]) {
        if (maxTotal > 0) {
          total.decrementAndGet();
        }
        throw Failure.RATE_LIMITED.exception("User " + userId + " already has " + maxPerUser
          + " uploads in flight", RETRY_AFTER_SECONDS);
      }
    }
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        if (maxTotal > 0) {
          total.decrementAndGet();
        }
        if (maxPerUser > 0) {
          perUser.computeIfPresent(userId, (id, count) -> count <= 1 ? null : count - 1);
        }
      }
    };
  }
}
