package io.avatarserver.variant;

/** An original that cannot be rendered: broken, unsupported, or beyond the render limits. */
public final class RenderException extends Exception {
  public RenderException(String message) {
    super(message);
  }

  public RenderException(String message, Throwable cause) {
    super(message, cause);
  }
}
