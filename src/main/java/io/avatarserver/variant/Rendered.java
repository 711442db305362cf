package io.avatarserver.variant;

/** One rendered variant: its encoded bytes (no metadata), its pixel size, and whether it is animated. */
public record Rendered(VariantSpec spec, byte[] bytes, int width, int height, boolean animated) {
}
