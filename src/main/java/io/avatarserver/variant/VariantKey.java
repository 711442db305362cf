package io.avatarserver.variant;

/**
 * Names one stored variant: of which user's avatar version, at which size, in which format, and
 * whether it is the first frame only. A version names one image forever, so a key names one set of
 * bytes forever too.
 */
public record VariantKey(long userId, long version, int size, VariantFormat format, boolean firstFrameOnly) {

  public VariantSpec spec() {
    return new VariantSpec(size, format, firstFrameOnly);
  }
}
