package io.avatarserver.variant;

import java.util.Locale;
import java.util.Optional;

/** The encodings a sized variant can be served in. */
public enum VariantFormat {
  PNG("image/png", "png"),
  JPEG("image/jpeg", "jpeg"),
  WEBP("image/webp", "webp"),
  GIF("image/gif", "gif");

  private final String mediaType;
  private final String extension;

  VariantFormat(String mediaType, String extension) {
    this.mediaType = mediaType;
    this.extension = extension;
  }

  public String mediaType() {
    return mediaType;
  }

  public String extension() {
    return extension;
  }

  /** The format for a name as used in URLs ({@code png}, {@code jpeg} or {@code jpg}, {@code webp}, {@code gif}). */
  public static Optional<VariantFormat> named(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (VariantFormat f : values()) {
      if (f.extension.equals(n)) {
        return Optional.of(f);
      }
    }
    return "jpg".equals(n) ? Optional.of(JPEG) : Optional.empty();
  }

  /** The format an original of this media type is served as by default. */
  public static Optional<VariantFormat> ofMediaType(String mediaType) {
    for (VariantFormat f : values()) {
      if (f.mediaType.equalsIgnoreCase(mediaType)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}
