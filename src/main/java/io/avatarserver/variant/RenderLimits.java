package io.avatarserver.variant;

/**
 * What a render may cost, checked from the header before any pixel is decoded. {@code maxSourcePixels}
 * bounds the original (per frame); an animated variant keeps its animation only while it has at most
 * {@code maxAnimationFrames} frames and at most {@code maxAnimationPixels} pixels over all of its
 * frames at the target size, else it is its first frame.
 */
public record RenderLimits(long maxSourcePixels, int maxAnimationFrames, long maxAnimationPixels) {
  public static final RenderLimits DEFAULT = new RenderLimits(100_000_000L, 100, 256L * 256 * 100);
}
