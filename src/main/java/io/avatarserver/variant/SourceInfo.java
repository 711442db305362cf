package io.avatarserver.variant;

/**
 * What an original's header says, read without decoding pixels: the basis for bounding a render's
 * cost before it starts. {@code orientation} is the EXIF orientation (1 when absent).
 */
public record SourceInfo(String mediaType, int width, int height, int frames, int orientation) {
  public long pixels() {
    return (long) width * height;
  }

  public boolean animated() {
    return frames > 1;
  }
}
