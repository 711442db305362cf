package io.avatarserver.variant;

/**
 * What a render may cost, checked from the header before any pixel is decoded. {@code maxSourcePixels}
 * bounds the original (per frame); an animated variant keeps its animation only while the original has
 * at most {@code maxAnimationFrames} frames, at most {@code maxAnimationSourcePixels} pixels over all of
 * its frames at the original's size (what keeping the animation decodes), and at most
 * {@code maxAnimationPixels} pixels over all of its frames at the target size; else it is its first frame.
 */
public record RenderLimits(long maxSourcePixels, int maxAnimationFrames, long maxAnimationPixels,
                           long maxAnimationSourcePixels) {
  public static final RenderLimits DEFAULT = new RenderLimits(100_000_000L, 100, 256L * 256 * 100, 100_000_000L);

  /**
   * Whether an animation of {@code frames} frames of {@code sourcePixels} pixels each (the header's) may
   * be kept in a variant of {@code size}×{@code size}: the decode (frames × source pixels) and the
   * encode (frames × size²) are both bounded. Both engines ask this.
   */
  public boolean keepsAnimation(int frames, long sourcePixels, int size) {
    return frames > 1
      && frames <= maxAnimationFrames
      && frames * sourcePixels <= maxAnimationSourcePixels
      && (long) frames * size * size <= maxAnimationPixels;
  }
}
