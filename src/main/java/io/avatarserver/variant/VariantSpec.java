package io.avatarserver.variant;

/**
 * One variant to render: a square centre crop of {@code size}×{@code size} pixels in {@code format};
 * {@code firstFrameOnly} renders an animated original's first frame only.
 */
public record VariantSpec(int size, VariantFormat format, boolean firstFrameOnly) {
  public VariantSpec {
    if (size < 1) {
      throw new IllegalArgumentException("size must be positive, was " + size);
    }
    if (format == null) {
      throw new IllegalArgumentException("format is required");
    }
  }
}
