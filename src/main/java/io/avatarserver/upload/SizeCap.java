package io.avatarserver.upload;

import io.avatarserver.avatar.AvatarException;
import io.avatarserver.avatar.Failure;

/**
 * The size stage: counts the body's bytes as they arrive, refuses the chunk that takes the body past
 * {@code maxBytes} at once, and at the end refuses a body shorter than {@code minBytes}.
 */
final class SizeCap {

  private final long maxBytes;
  private final int minBytes;
  private long received;

  SizeCap(long maxBytes, int minBytes) {
    this.maxBytes = maxBytes;
    this.minBytes = minBytes;
  }

  /**
   * Counts a chunk of {@code bytes}; they count even when refused.
   *
   * @throws AvatarException AVATAR_TOO_LARGE once more than {@code maxBytes} arrived
   */
  void add(int bytes) {
    received += bytes;
    if (received > maxBytes) {
      throw Failure.AVATAR_TOO_LARGE.exception("The avatar is larger than the limit of " + maxBytes + " bytes");
    }
  }

  /**
   * The body is complete.
   *
   * @throws AvatarException AVATAR_TOO_SMALL when fewer than {@code minBytes} arrived
   */
  void end() {
    if (received < minBytes) {
      throw Failure.AVATAR_TOO_SMALL.exception("The avatar has " + received + " bytes; the minimum is " + minBytes);
    }
  }

  /** Bytes received so far, a refused chunk included. */
  long received() {
    return received;
  }
}
