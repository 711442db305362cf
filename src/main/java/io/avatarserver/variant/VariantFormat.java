package io.avatarserver.variant;

import io.avatarserver.upload.image.ImageType;

import java.util.Locale;
import java.util.Optional;

/**
 * The encodings a sized variant can be served in: the image types an avatar may have, named in URLs
 * by {@link #extension()} ({@code jpeg}, where stored files end in {@code jpg}).
 */
public enum VariantFormat {
  PNG(ImageType.PNG, "png"),
  JPEG(ImageType.JPEG, "jpeg"),
  WEBP(ImageType.WEBP, "webp"),
  GIF(ImageType.GIF, "gif");

  private final ImageType type;
  private final String extension;

  VariantFormat(ImageType type, String extension) {
    this.type = type;
    this.extension = extension;
  }

  public String mediaType() {
    return type.mediaType();
  }

  /** The image type this format encodes. */
  public ImageType imageType() {
    return type;
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
      if (f.mediaType().equalsIgnoreCase(mediaType)) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}
