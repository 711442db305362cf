package io.avatarserver.variant;

/** Every render place is taken ({@code variants.workers} + {@code variants.queue}): serve something else now. */
public final class RenderQueueFullException extends Exception {
  public RenderQueueFullException() {
    super("the render queue is full", null, false, false);
  }
}
