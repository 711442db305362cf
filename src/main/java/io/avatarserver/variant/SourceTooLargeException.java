package io.avatarserver.variant;

/** An original whose header says it costs more to render than {@code variants.maxSourcePixels} allows. */
public final class SourceTooLargeException extends Exception {
  public SourceTooLargeException(String message) {
    super(message, null, false, false);
  }
}
