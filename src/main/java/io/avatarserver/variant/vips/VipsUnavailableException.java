package io.avatarserver.variant.vips;

/** libvips cannot be used in this process: not installed, too old, or it failed to start. */
public final class VipsUnavailableException extends Exception {
  public VipsUnavailableException(String message) {
    super(message);
  }

  public VipsUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
